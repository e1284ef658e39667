import type { ContainerInspect, Engine } from '@ds01/events-core/engine';
import { parseDockerSize } from '../create/sizes.js';
import { Denial } from '../deny.js';
import type { OwnedContainers } from '../docker-api.js';

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
  owned: OwnedContainers,
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
  const live = (await owned()).filter((c) => LIVE.has(c.State ?? ''));
  const limits = await Promise.all(live.map(async (c) => (await docker.inspectContainer(c.Id))?.HostConfig?.Memory ?? 0));
  const committed = limits.reduce((sum, memory) => sum + (memory > 0 ? memory : cap), 0);
  if (committed + want > cap)
    throw new Denial(
      'aggregate-memory',
      `your running containers hold ${gb(committed)} of your ${gb(cap)} memory and this one asks for ${gb(want)}`,
      'Stop a container you no longer need (`docker ps`, `docker stop NAME`), or ask for less with --memory.',
    );
}

/**
 * Starting stopped containers commits their memory limits: the same cap as at
 * create, for all of them together (each may fit alone while all do not; one
 * without a limit counts as the whole cap).
 */
export async function checkStartMemory(
  docker: Engine,
  owned: OwnedContainers,
  aggregate: Record<string, unknown> | null,
  targets: ContainerInspect[],
): Promise<void> {
  const limits = targets.filter((c) => c.State?.Running !== true).map((c) => c.HostConfig?.Memory ?? 0);
  if (limits.length === 0) return;
  await checkAggregateMemory(docker, owned, aggregate, limits.includes(0) ? null : limits.reduce((a, b) => a + b, 0));
}
