import { type LogFile, listLogFiles } from '@ds01/events-core/read';
import type { EventFilter } from '../build-filter.js';
import { CLOCK_SKEW_MS, type Hit, type ReadStats } from './hit.js';
import { forwardStarts, startOf } from './plan-pieces.js';
import { type ScanState, scanBackward, scanForward } from './scan-file.js';

/** Resume exactly after a known line (the cursor): its file and the offset after it. */
export interface ResumePoint {
  file: string;
  offset: number;
}

/**
 * Matching events of one log (the live file and its rotated and .gz
 * siblings), oldest first. Files older than --since are not opened; the
 * first one that is gets its start found by binary search. After a cursor,
 * reading starts just after it.
 */
export async function* forwardHits(live: string, filter: EventFilter, stats: ReadStats, resume?: ResumePoint): AsyncGenerator<Hit[]> {
  const starts = resume ? await resumeStarts(live, filter, resume) : await forwardStarts(live, filter);
  const state: ScanState = { stopped: false };
  const stopAfter = filter.until !== undefined ? filter.until + CLOCK_SKEW_MS : undefined;
  for (const { file, start } of starts) {
    yield* scanForward(file, start, filter, stats, state, stopAfter);
    if (state.stopped) return;
  }
}

/** The files from the cursor's on: its own from the offset after it, later ones as forwardStarts enters them. */
async function resumeStarts(live: string, filter: EventFilter, resume: ResumePoint): Promise<{ file: LogFile; start: number }[]> {
  const files = listLogFiles(live);
  const at = files.findIndex((f) => f.path === resume.file);
  const out: { file: LogFile; start: number }[] = [];
  for (const [i, file] of files.entries()) {
    if (i < at) continue;
    if (i === at) out.push({ file, start: resume.offset });
    else {
      const start = await startOf(file, filter);
      if (start !== null) out.push({ file, start });
    }
  }
  return out;
}

/** Matching events of one log, newest first. */
export async function* backwardHits(live: string, filter: EventFilter, stats: ReadStats): AsyncGenerator<Hit[]> {
  const files = listLogFiles(live).reverse();
  const state: ScanState = { stopped: false };
  const stopBefore = filter.since !== undefined ? filter.since - CLOCK_SKEW_MS : undefined;
  for (const file of files) {
    if (filter.since !== undefined && file.mtimeMs < filter.since) return;
    yield* scanBackward(file, filter, stats, state, stopBefore);
    if (state.stopped) return;
  }
}

/**
 * Merges several time-ordered streams of batches into one (oldest first, or
 * newest first with `descending`), holding one batch per stream.
 */
export async function* mergeHits(streams: AsyncGenerator<Hit[]>[], descending = false): AsyncGenerator<Hit[]> {
  if (streams.length === 1) {
    yield* streams[0] as AsyncGenerator<Hit[]>;
    return;
  }
  const heads: { batch: Hit[]; at: number }[] = streams.map(() => ({ batch: [], at: 0 }));
  const refill = async (i: number): Promise<boolean> => {
    const head = heads[i] as { batch: Hit[]; at: number };
    while (head.at >= head.batch.length) {
      const next = await (streams[i] as AsyncGenerator<Hit[]>).next();
      if (next.done) return false;
      head.batch = next.value;
      head.at = 0;
    }
    return true;
  };
  const live = new Set<number>();
  for (let i = 0; i < streams.length; i++) if (await refill(i)) live.add(i);
  let out: Hit[] = [];
  while (live.size > 0) {
    let pick = -1;
    let best: Hit | undefined;
    for (const i of live) {
      const head = heads[i] as { batch: Hit[]; at: number };
      const h = head.batch[head.at] as Hit;
      if (!best || (descending ? h.time > best.time : h.time < best.time)) {
        best = h;
        pick = i;
      }
    }
    out.push(best as Hit);
    (heads[pick] as { at: number }).at++;
    const head = heads[pick] as { batch: Hit[]; at: number };
    if (head.at >= head.batch.length && !(await refill(pick))) live.delete(pick);
    if (out.length >= 1000) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
