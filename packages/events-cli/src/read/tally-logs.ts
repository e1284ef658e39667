import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { EventFilter } from '../build-filter.js';
import { Counter, Summariser, type SummaryPart } from '../summarise.js';
import { CLOCK_SKEW_MS, type ReadStats } from './hit.js';
import { closePieces, planPieces } from './plan-pieces.js';
import { type Piece, tallyRange } from './tally-range.js';
import type { TallyJob, TallyReply, TallyWorkerData } from './tally-worker.js';

/** How a tally may be spread over worker threads. */
export interface ParallelOptions {
  /** Threads counting at most, this one included (so workers - 1 worker threads); 1 or less: this thread alone. */
  workers: number;
  /** Plain files are cut into byte ranges of about this size, each counted by one worker. */
  pieceBytes: number;
}

/** Read blocks of a worker: smaller than this thread's, as several run at once. */
const WORKER_BLOCK_BYTES = 1 << 20;
const MAIN_BLOCK_BYTES = 4 << 20;

const newBlocks = (bytes: number): [Buffer, Buffer] => [Buffer.allocUnsafe(bytes), Buffer.allocUnsafe(bytes)];

/**
 * The worker entry: next to this module, or in dist/read/ when this code is
 * part of the bundled bin (dist/bin/). Null when running from the TypeScript
 * sources (in-process tests), which count in one thread; anywhere else a
 * missing entry is an error rather than a silent loss of the workers.
 */
function workerScript(): URL | null {
  for (const candidate of ['./tally-worker.js', '../read/tally-worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (fs.existsSync(fileURLToPath(url))) return url;
  }
  if (import.meta.url.endsWith('.ts')) return null;
  throw new Error(`tally-worker.js is missing next to ${fileURLToPath(import.meta.url)} (rebuild events-cli)`);
}

/**
 * Counts the matching events of several logs (each with its rotated and .gz
 * siblings) for --summary or --count. The result is the same as one
 * forward scan of each log: the pieces of a log are merged in file order,
 * and when a piece stops at an event past --until (plus the skew), later
 * pieces of that log are dropped, as a single scan would not have read them.
 * When the logs make more than one piece and workers are allowed, the pieces
 * are counted by this thread and worker threads together, each taking the
 * next piece when it is done.
 */
export async function tallyLogs(
  files: string[],
  filter: EventFilter,
  mode: 'summary' | 'count',
  utc: boolean,
  parallel: ParallelOptions,
  stats: ReadStats,
): Promise<Summariser | Counter> {
  const result = mode === 'summary' ? new Summariser(utc) : new Counter();
  const stopAfter = filter.until !== undefined ? filter.until + CLOCK_SKEW_MS : undefined;
  const logs: Piece[][] = [];
  try {
    // One thread reads each file whole: pieces would only cost more reads.
    const pieceBytes = parallel.workers > 1 ? parallel.pieceBytes : Number.POSITIVE_INFINITY;
    for (const f of files) logs.push(await planPieces(f, filter, pieceBytes));
    return await tallyPlanned(logs, filter, mode, utc, parallel, stats, result, stopAfter);
  } finally {
    for (const pieces of logs) closePieces(pieces);
  }
}

async function tallyPlanned(
  logs: Piece[][],
  filter: EventFilter,
  mode: 'summary' | 'count',
  utc: boolean,
  parallel: ParallelOptions,
  stats: ReadStats,
  result: Summariser | Counter,
  stopAfter: number | undefined,
): Promise<Summariser | Counter> {
  const total = logs.reduce((n, pieces) => n + pieces.length, 0);
  const workers = Math.min(parallel.workers, total);
  const script = workers > 1 ? workerScript() : null;
  if (!script) {
    const blocks = newBlocks(MAIN_BLOCK_BYTES);
    for (const pieces of logs) {
      for (const piece of pieces) {
        if (await tallyRange(piece, result, stats, { filter, stopAfter, blocks, countOnly: mode === 'count' })) break;
      }
    }
    return result;
  }
  const replies = await runPool(script, logs, filter, mode, utc, workers, stopAfter);
  for (const perLog of replies) {
    for (const reply of perLog) {
      if (!reply) break; // not counted: an earlier piece of this log stopped
      result.merge(reply.part);
      stats.skipped += reply.skipped;
      if (reply.stopped) break;
    }
  }
  return result;
}

interface Done {
  part: SummaryPart;
  skipped: number;
  stopped: boolean;
}

interface Job {
  log: number;
  index: number;
  piece: Piece;
}

/**
 * Counts every piece in a pool: this thread and `size - 1` worker threads,
 * each taking the next piece when done (this thread starts at once, while
 * the workers load). Per log, the replies in piece order.
 */
async function runPool(
  script: URL,
  logs: Piece[][],
  filter: EventFilter,
  mode: 'summary' | 'count',
  utc: boolean,
  size: number,
  stopAfter: number | undefined,
): Promise<(Done | undefined)[][]> {
  const jobs: Job[] = logs.flatMap((pieces, log) => pieces.map((piece, index) => ({ log, index, piece })));
  const replies: (Done | undefined)[][] = logs.map((pieces) => new Array(pieces.length).fill(undefined));
  // Per log, the first piece known to have stopped: later ones need not be counted.
  const stoppedAt = logs.map(() => Number.POSITIVE_INFINITY);
  let next = 0;
  const nextJob = (): Job | undefined => {
    while (next < jobs.length) {
      const job = jobs[next++] as Job;
      if (job.index <= (stoppedAt[job.log] as number)) return job;
    }
    return undefined;
  };
  const record = (job: Job, done: Done) => {
    (replies[job.log] as (Done | undefined)[])[job.index] = done;
    if (done.stopped && job.index < (stoppedAt[job.log] as number)) stoppedAt[job.log] = job.index;
  };

  const data: TallyWorkerData = { spec: filter.spec, mode, utc, blockBytes: WORKER_BLOCK_BYTES };
  // Loaded only when there are pieces to share, off the start-up of every other query.
  const { Worker: WorkerThread } = await import('node:worker_threads');
  const pool = Array.from({ length: size - 1 }, () => new WorkerThread(script, { workerData: data }));
  const inWorker = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      let current: Job | undefined;
      const give = () => {
        current = nextJob();
        if (!current) {
          resolve();
          return;
        }
        const message: TallyJob = { id: current.index, piece: current.piece };
        if (stopAfter !== undefined) message.stopAfter = stopAfter;
        worker.postMessage(message);
      };
      worker.on('message', (reply: TallyReply) => {
        if ('error' in reply) {
          reject(new Error(reply.error));
          return;
        }
        record(current as Job, reply);
        give();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (current) reject(new Error(`a counting worker exited (code ${code}) before it was done`));
      });
      give();
    });
  const inThisThread = async () => {
    const blocks = newBlocks(MAIN_BLOCK_BYTES);
    for (let job = nextJob(); job; job = nextJob()) {
      const sink = mode === 'summary' ? new Summariser(utc) : new Counter();
      const stats: ReadStats = { skipped: 0 };
      const stopped = await tallyRange(job.piece, sink, stats, { filter, stopAfter, blocks, countOnly: mode === 'count' });
      record(job, { part: sink.part(), skipped: stats.skipped, stopped });
    }
  };
  try {
    await Promise.all([inThisThread(), ...pool.map(inWorker)]);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return replies;
}
