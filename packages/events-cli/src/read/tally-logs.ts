import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventFilter } from '../build-filter.js';
import { Counter, Summariser, type SummaryPart } from '../summarise.js';
import { CLOCK_SKEW_MS, type ReadStats } from './hit.js';
import { closePieces, planPieces } from './plan-pieces.js';
import { type Piece, tallyRange } from './tally-range.js';
import type { TallyJob, TallyReply, TallyWorkerData } from './tally-worker.js';

/** How a tally may be spread over worker threads. */
export interface ParallelOptions {
  /** Worker threads at most; 1 or less counts in this thread. */
  workers: number;
  /** Plain files are cut into byte ranges of about this size, each counted by one worker. */
  pieceBytes: number;
}

/** Read blocks of a worker: smaller than a single scan's, as several run at once. */
const WORKER_BLOCK_BYTES = 1 << 20;

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
 * are counted in worker threads, each taking the next piece when it is done.
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
    for (const f of files) logs.push(await planPieces(f, filter, parallel.pieceBytes));
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
    for (const pieces of logs) {
      for (const piece of pieces) {
        if (await tallyRange(piece, result, stats, { filter, stopAfter })) break;
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

/** Counts every piece in a pool of worker threads; per log, the replies in piece order. */
async function runPool(
  script: URL,
  logs: Piece[][],
  filter: EventFilter,
  mode: 'summary' | 'count',
  utc: boolean,
  size: number,
  stopAfter: number | undefined,
): Promise<(Done | undefined)[][]> {
  const jobs = logs.flatMap((pieces, log) => pieces.map((piece, index) => ({ log, index, piece })));
  const replies: (Done | undefined)[][] = logs.map((pieces) => new Array(pieces.length).fill(undefined));
  // Per log, the first piece known to have stopped: later ones need not be counted.
  const stoppedAt = logs.map(() => Number.POSITIVE_INFINITY);
  const data: TallyWorkerData = { spec: filter.spec, mode, utc, blockBytes: WORKER_BLOCK_BYTES };
  const pool = Array.from({ length: size }, () => new Worker(script, { workerData: data }));
  let next = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current: (typeof jobs)[number] | undefined;
            const give = () => {
              while (next < jobs.length) {
                const job = jobs[next++] as (typeof jobs)[number];
                if (job.index > (stoppedAt[job.log] as number)) continue;
                current = job;
                const message: TallyJob = { id: next - 1, piece: job.piece };
                if (stopAfter !== undefined) message.stopAfter = stopAfter;
                worker.postMessage(message);
                return;
              }
              current = undefined;
              resolve();
            };
            worker.on('message', (reply: TallyReply) => {
              if ('error' in reply) {
                reject(new Error(reply.error));
                return;
              }
              const job = current as (typeof jobs)[number];
              (replies[job.log] as (Done | undefined)[])[job.index] = reply;
              if (reply.stopped && job.index < (stoppedAt[job.log] as number)) stoppedAt[job.log] = job.index;
              give();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (current) reject(new Error(`a counting worker exited (code ${code}) before it was done`));
            });
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return replies;
}
