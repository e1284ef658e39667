import { type LogFile, listLogFiles } from '@ds01/events-core/read';
import type { EventFilter } from '../build-filter.js';
import { findOffset } from './find-offset.js';
import { CLOCK_SKEW_MS, type Hit, type ReadStats } from './hit.js';
import { type ScanState, scanBackward, scanForward } from './scan-file.js';

/** Resume exactly after a known line (the cursor): its file and the offset after it. */
export interface ResumePoint {
  file: string;
  offset: number;
}

/**
 * Matching events of one log (the live file and its rotated and .gz
 * siblings), oldest first. Files older than --since are not opened; the
 * first one that is gets its start found by binary search.
 */
export async function* forwardHits(
  live: string,
  filter: EventFilter,
  stats: ReadStats,
  resume?: ResumePoint,
  countOnly = false,
): AsyncGenerator<Hit[]> {
  const files = listLogFiles(live);
  let first = 0;
  if (resume) {
    const at = files.findIndex((f) => f.path === resume.file);
    if (at >= 0) first = at;
  }
  const state: ScanState = { stopped: false };
  const stopAfter = filter.until !== undefined ? filter.until + CLOCK_SKEW_MS : undefined;
  for (let i = first; i < files.length; i++) {
    const file = files[i] as LogFile;
    let start = 0;
    if (resume && i === first && file.path === resume.file) start = resume.offset;
    else if (filter.since !== undefined) {
      // Every event in a file was written before its mtime.
      if (file.mtimeMs < filter.since) continue;
      if (!file.compressed) start = await findOffset(file.path, filter.since - CLOCK_SKEW_MS);
    }
    yield* scanForward(file, start, filter, stats, state, stopAfter, countOnly);
    if (state.stopped) return;
  }
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
