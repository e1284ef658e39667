import { labelsOf } from '../rules/owner-label.js';
import { isVolumeName, type VolumeUse } from '../volume-ownership.js';
import { parseMountFlag, volumeFlagSource } from './bind-mounts.js';

/**
 * Named volumes of a run/create command line: `-v NAME:/path[:opts]`
 * (`--volume`, with `--volume-driver`), and `--mount type=volume,source=NAME`
 * (`src=`, with its `volume-driver`, `volume-opt`s and `volume-label`s).
 * Anonymous volumes (`-v /path`, a mount without a source) and host paths are
 * not named volumes.
 */
export function namedVolumesOfOptions(options: readonly { flag: string; value?: string }[], cwd: string): VolumeUse[] {
  const drivers = options.filter((o) => o.flag === '--volume-driver' && o.value !== undefined);
  const volumeDriver = drivers.at(-1)?.value;
  const out: VolumeUse[] = [];
  for (const o of options) {
    if (o.value === undefined) continue;
    if (o.flag === '-v' || o.flag === '--volume') {
      const parts = o.value.split(':');
      const name = parts[0]!;
      if (parts.length < 2 || volumeFlagSource(o.value, cwd) !== null || !isVolumeName(name)) continue;
      out.push({ name, via: `${o.flag} ${o.value}`, ...(volumeDriver ? { driver: volumeDriver } : {}), driverOpts: {}, labels: {} });
    } else if (o.flag === '--mount') {
      const m = parseMountFlag(o.value);
      if (m.type !== 'volume' || !m.source || !isVolumeName(m.source)) continue;
      out.push({
        name: m.source,
        via: `--mount ${o.value}`,
        ...(m.volumeDriver ? { driver: m.volumeDriver } : {}),
        // volume-opt is KEY=VALUE like a label.
        driverOpts: labelsOf(m.volumeOpts),
        labels: labelsOf(m.volumeLabels),
      });
    }
  }
  return out;
}
