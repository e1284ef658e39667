import type { ContainerInspect } from '@ds01/events-core/engine';
import { type BindPolicy, hostPathProblem } from '../create/bind-mounts.js';
import { Denial } from '../deny.js';

/**
 * The engine resolves a bind mount's host path each time it mounts it,
 * following symlinks, not once at create: at every start, and for `docker
 * cp` on a stopped container (it mounts the container's volumes on the
 * host to copy). A user who creates a container with `-v ~/x:/h` and then
 * replaces `~/x` by a link to `/` gets the host's root at the next start,
 * or reads and writes it with `docker cp`: the create-time check alone
 * would be a way around `bind-mount` (tested). So every start, restart and
 * cp checks the container's bind sources again, and a restart policy, with
 * which the engine restarts a container by itself and mounts again
 * unchecked, is refused on a container that binds host paths.
 */

/** A host path the container binds: `Binds` sources and `Mounts` of type bind, as its HostConfig names them. */
export interface BindSource {
  what: string;
  source: string;
}

type HostMounts = { Binds?: unknown; Mounts?: unknown };

/** `/host:/ctr[:opts]` entries of `Binds` (a source not starting with / names a volume) and bind `Mounts`. */
export function bindSources(host: HostMounts | null | undefined): BindSource[] {
  const out: BindSource[] = [];
  for (const b of Array.isArray(host?.Binds) ? host.Binds : []) {
    if (typeof b !== 'string') continue;
    const src = b.split(':')[0] ?? '';
    if (src.startsWith('/')) out.push({ what: `Binds ${b}`, source: src });
  }
  for (const m of Array.isArray(host?.Mounts) ? host.Mounts : []) {
    if (!m || typeof m !== 'object') continue;
    const { Type, Source } = m as { Type?: unknown; Source?: unknown };
    if (String(Type ?? 'volume').toLowerCase() !== 'bind' || typeof Source !== 'string') continue;
    out.push({ what: `Mounts ${Source}`, source: Source.startsWith('/') ? Source : `/${Source}` });
  }
  return out;
}

/** `--volumes-from` entries: the other container's bind mounts come along, resolved again at each start. */
export function volumesFromSources(host: { VolumesFrom?: unknown } | null | undefined): BindSource[] {
  const from = Array.isArray(host?.VolumesFrom) ? host.VolumesFrom : [];
  return from.filter((v): v is string => typeof v === 'string' && v !== '').map((v) => ({ what: `--volumes-from ${v}`, source: '' }));
}

/**
 * What the engine binds when it mounts this container: its own binds, and,
 * from the inspect's mount list, those it took from other containers with
 * `--volumes-from`.
 */
export function mountedBinds(c: ContainerInspect): BindSource[] {
  const out = bindSources(c.HostConfig);
  const seen = new Set(out.map((b) => b.source));
  for (const m of c.Mounts ?? []) {
    if (String(m.Type ?? '').toLowerCase() !== 'bind' || typeof m.Source !== 'string' || seen.has(m.Source)) continue;
    seen.add(m.Source);
    out.push({ what: `a mount of ${m.Source}`, source: m.Source });
  }
  return out;
}

const nameOf = (c: ContainerInspect) => (c.Name ?? c.Id).replace(/^\//, '');

/** Each container the engine is about to mount (start, restart, cp): every bind source, resolved now, is still one the user may mount. */
export function checkBindsAtMount(containers: readonly ContainerInspect[], policy: BindPolicy): void {
  for (const c of containers) {
    for (const b of mountedBinds(c)) {
      const problem = hostPathProblem(b.source, policy);
      if (problem)
        throw new Denial(
          'bind-mount',
          `'${nameOf(c)}' binds ${b.source}, which now ${problem} (the engine follows links each time it mounts it)`,
          'Remove the container (docker rm) and create it again with a directory of your own.',
          nameOf(c),
        );
    }
  }
}

/** The policy's name (`on-failure:3` → `on-failure`); '' and `no` restart nothing. */
export function restartPolicyName(value: string | undefined | null): string {
  return (value ?? '').split(':')[0]!.trim().toLowerCase();
}

/**
 * A restart policy on a container that binds host paths (or takes another
 * container's volumes, which may): the engine would mount them again at
 * each restart, unchecked.
 */
export function checkRestartWithBinds(policy: string | undefined | null, binds: readonly BindSource[], target?: string): void {
  const name = restartPolicyName(policy);
  if (name === '' || name === 'no' || binds.length === 0) return;
  throw new Denial(
    'bind-mount',
    `a restart policy (${name}) on a container with host paths mounted (${binds[0]!.what}): Docker would mount them again at every restart without a check`,
    'Leave out --restart (start it again with docker start), or keep the data in a named volume.',
    target,
  );
}
