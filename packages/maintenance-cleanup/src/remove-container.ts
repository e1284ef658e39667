import { type ClassifiedContainer, classifyContainer, clearRemovalMark, markRemoval } from '@ds01/events-core/jobs';
import type Docker from 'dockerode';
import type { Decision } from './decide-removal.js';
import { messageOf, statusOf } from './docker-errors.js';
import { inspect } from './list-containers.js';

export type RemoveOutcome =
  | { outcome: 'removed'; fresh: ClassifiedContainer; decision: Decision }
  | { outcome: 'changed' | 'vanished'; detail: string }
  | { outcome: 'failed'; detail: string };

/**
 * Removes a container only if it is still the one that was judged: same id,
 * same state, same start and stop times, and the decision still says remove
 * at this moment. Never forced, so a container that starts in the last
 * instant makes Docker refuse (409), which counts as "changed", not failed.
 */
export async function removeIfStillDue(
  docker: Docker,
  listed: ClassifiedContainer,
  decide: (c: ClassifiedContainer, now: number) => Decision | null,
  removeVolumes: boolean,
  source: string,
): Promise<RemoveOutcome> {
  let info: Awaited<ReturnType<typeof inspect>>;
  try {
    info = await inspect(docker, listed.id);
  } catch (err) {
    return { outcome: 'failed', detail: `inspect failed: ${messageOf(err)}` };
  }
  if (!info) return { outcome: 'vanished', detail: 'removed by someone else since the listing' };
  const fresh = classifyContainer(info);
  if (fresh.status !== listed.status || fresh.startedAt !== listed.startedAt || fresh.finishedAt !== listed.finishedAt) {
    return { outcome: 'changed', detail: `changed since the listing (now ${fresh.status}); left alone` };
  }
  const decision = decide(fresh, Date.now());
  if (decision?.action !== 'remove') {
    return { outcome: 'changed', detail: `no longer due (${decision?.detail ?? 'not a candidate'}); left alone` };
  }
  // This job logs the removal (with its reason); the mark tells the Docker watcher not to log it again.
  markRemoval(fresh.id, source);
  try {
    await docker.getContainer(fresh.id).remove({ force: false, v: removeVolumes });
  } catch (err) {
    clearRemovalMark(fresh.id);
    const status = statusOf(err);
    if (status === 404) return { outcome: 'vanished', detail: 'removed by someone else just now' };
    if (status === 409) return { outcome: 'changed', detail: `Docker refused the removal: ${messageOf(err)}` };
    return { outcome: 'failed', detail: `remove failed: ${messageOf(err)}` };
  }
  return { outcome: 'removed', fresh, decision };
}
