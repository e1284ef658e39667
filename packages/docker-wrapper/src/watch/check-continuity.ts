import { type DockerEvent, keyTime, parseDockerEvent } from './docker-event.js';
import type { DockerSource } from './docker-source.js';
import { LineSplitter } from './split-lines.js';

/** Docker keeps this many events (all types), in memory only, lost when the daemon restarts. */
export const DOCKER_EVENT_HISTORY = 256;

export type Continuity =
  | { gap: false }
  | {
      gap: true;
      fromNano: bigint;
      toNano: bigint;
      reason: 'docker_history_exceeded' | 'docker_restarted';
      /** The oldest event Docker still holds after the anchor (any type), where continuity picks up again; none when it holds nothing newer. */
      resumeKey: string | null;
    };

async function readHistory(docker: DockerSource, sinceNano: bigint, untilNano: bigint): Promise<DockerEvent[]> {
  const stream = await docker.history(sinceNano, untilNano);
  const splitter = new LineSplitter();
  const events: DockerEvent[] = [];
  const take = (lines: string[]) => {
    for (const line of lines) {
      const ev = parseDockerEvent(line);
      if (ev) events.push(ev);
    }
  };
  for await (const chunk of stream) take(splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  take(splitter.end());
  return events;
}

/**
 * Whether Docker can still replay everything after the last event handled.
 * Proof: that event (the anchor), or one handled just before it, is still in
 * Docker's history; history is a contiguous window, so nothing after it has
 * been dropped, and the daemon has not restarted (a restart empties it). When
 * none is there, events from the anchor up to the oldest one Docker still
 * holds (or now) may be missing.
 */
export async function checkContinuity(
  docker: DockerSource,
  anchor: string | null,
  recent: readonly string[],
  nowNano: bigint,
): Promise<Continuity> {
  const anchorNano = anchor ? keyTime(anchor) : null;
  if (anchor === null || anchorNano === null || anchorNano >= nowNano) return { gap: false };
  const known = new Set([anchor, ...recent]);
  let since = anchorNano;
  for (const key of recent) {
    const t = keyTime(key);
    if (t !== null && t < since) since = t;
  }
  const history = await readHistory(docker, since, nowNano);
  if (history.some((ev) => known.has(ev.key))) return { gap: false };
  const firstAfter = history.find((ev) => ev.timeNano > anchorNano);
  return {
    gap: true,
    fromNano: anchorNano,
    toNano: firstAfter?.timeNano ?? nowNano,
    reason: history.length >= DOCKER_EVENT_HISTORY ? 'docker_history_exceeded' : 'docker_restarted',
    resumeKey: firstAfter?.key ?? null,
  };
}
