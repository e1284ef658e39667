import { labelsOfJson } from '../rules/owner-label.js';
import { isVolumeName, type VolumeUse } from '../volume-ownership.js';
import { type Json, obj } from './request-parts.js';

/**
 * Named volumes of a create request: `HostConfig.Binds` entries whose source
 * is not an absolute path (created with `HostConfig.VolumeDriver`), and
 * `HostConfig.Mounts` of type volume with a source (with their
 * `VolumeOptions`). Anonymous volumes have no source.
 */
export function namedVolumesOfHostConfig(host: Json): VolumeUse[] {
  const out: VolumeUse[] = [];
  const driver = typeof host.VolumeDriver === 'string' && host.VolumeDriver ? host.VolumeDriver : undefined;
  for (const b of Array.isArray(host.Binds) ? host.Binds : []) {
    if (typeof b !== 'string') continue;
    const parts = b.split(':');
    const name = parts[0]!;
    if (parts.length < 2 || name.startsWith('/') || !isVolumeName(name)) continue;
    out.push({ name, via: `Binds ${b}`, ...(driver ? { driver } : {}), driverOpts: {}, labels: {} });
  }
  for (const raw of Array.isArray(host.Mounts) ? host.Mounts : []) {
    const m = obj(raw);
    if (String(m.Type ?? 'volume').toLowerCase() !== 'volume' || typeof m.Source !== 'string' || !isVolumeName(m.Source)) continue;
    const options = obj(m.VolumeOptions);
    const config = obj(options.DriverConfig);
    out.push({
      name: m.Source,
      via: `Mounts ${m.Source}`,
      ...(typeof config.Name === 'string' && config.Name ? { driver: config.Name } : {}),
      driverOpts: labelsOfJson(config.Options),
      labels: labelsOfJson(options.Labels),
    });
  }
  return out;
}
