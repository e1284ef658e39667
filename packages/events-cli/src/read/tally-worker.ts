import { parentPort, workerData } from 'node:worker_threads';
import { buildFilter, type FilterSpec } from '../build-filter.js';
import { Counter, Summariser } from '../summarise.js';
import type { ReadStats } from './hit.js';
import { type Piece, tallyRange } from './tally-range.js';

/** What the parent sends once, when it starts the worker. */
export interface TallyWorkerData {
  spec: FilterSpec;
  mode: 'summary' | 'count';
  utc: boolean;
  blockBytes: number;
}

/** One piece to count. */
export interface TallyJob {
  id: number;
  piece: Piece;
  stopAfter?: number;
}

export type TallyReply =
  | { id: number; part: ReturnType<Summariser['part']>; skipped: number; stopped: boolean }
  | { id: number; error: string };

// Runs in a worker thread: counts the pieces the parent sends, one at a time, and replies with each piece's part.
const data = workerData as TallyWorkerData;
const filter = buildFilter(data.spec);
const blocks: [Buffer, Buffer] = [Buffer.allocUnsafe(data.blockBytes), Buffer.allocUnsafe(data.blockBytes)];
parentPort?.on('message', (job: TallyJob) => {
  const sink = data.mode === 'summary' ? new Summariser(data.utc) : new Counter();
  const stats: ReadStats = { skipped: 0 };
  tallyRange(job.piece, sink, stats, { filter, stopAfter: job.stopAfter, blocks, countOnly: data.mode === 'count' }).then(
    (stopped) => parentPort?.postMessage({ id: job.id, part: sink.part(), skipped: stats.skipped, stopped } satisfies TallyReply),
    (err: unknown) => parentPort?.postMessage({ id: job.id, error: (err as Error)?.message ?? String(err) } satisfies TallyReply),
  );
});
