import type { Engine } from '@ds01/events-core/engine';
import { parseDockerSize } from '../create/sizes.js';
import { Denial } from '../deny.js';

const GIB = 1024 ** 3;
const gb = (bytes: number) => `${(bytes / GIB).toFixed(1)}G`;
/** States in which a container's memory limit is committed. */
const LIVE = new Set(['running', 'paused', 'restarting']);

/**
 * `aggregate.memory_max`: the memory limits of a user's live containers,
 * together with the new one, stay within the user's aggregate cap. DS01
 * compared the slice's current *usage* (read from a cgroup path that was
 * wrong for dashed names, and failing open on any error), ignored `-m` and
 * units like `gb` (wrapper-spec §7 D24). Limits, not usage, are what the
 * containers may take; a container without a limit counts as taking the cap.
 */
export async function checkAggregateMemory(
  docker: Engine,
  owner: string,
  aggregate: Record<string, unknown> | null,
  /** The new containers' memory: a docker size, bytes (0: no limit), or null for no limit. */
  requested: string | number | null,
): Promise<void> {
  const capText = aggregate?.memory_max;
  if (typeof capText !== 'string' || capText === '') return;
  const cap = parseDockerSize(capText);
  if (cap === null)
    throw new Denial('aggregate-memory', `the site's aggregate.memory_max (${capText}) is not a size`, 'Tell an administrator.');
  const bytes = typeof requested === 'string' ? parseDockerSize(requested) : requested;
  const want = bytes === null || bytes <= 0 ? cap : bytes;
  const live = (await docker.listContainers({ all: true, filters: { label: [`ds01.user=${owner}`] } })).filter((c) =>
    LIVE.has(c.State ?? ''),
  );
  let committed = 0;
  for (const c of live) {
    const memory = (await docker.inspectContainer(c.Id))?.HostConfig?.Memory ?? 0;
    committed += memory > 0 ? memory : cap;
  }
  if (committed + want > cap)
    throw new Denial(
      'aggregate-memory',
      `your running containers hold ${gb(committed)} of your ${gb(cap)} memory and this one asks for ${gb(want)}`,
      'Stop a container you no longer need (`docker ps`, `docker stop NAME`), or ask for less with --memory.',
    );
}
