import { listLogFiles } from '@ds01/events-core/read';
import { buildFilter, type EventFilter } from './build-filter.js';
import type { CliIo } from './cli.js';
import { type Cursor, readCursor, writeCursor } from './cursor.js';
import { followLogs, followStartOf, LogFollower } from './follow.js';
import { ansiPaint, noPaint } from './output/colour.js';
import { DEFAULT_COLUMNS, rawField } from './output/fields.js';
import { LineSink } from './output/sink.js';
import { TableWriter } from './output/table.js';
import { CLOCK_SKEW_MS, type Hit, type ReadStats } from './read/hit.js';
import { backwardHits, forwardHits, mergeHits, type ResumePoint } from './read/log-stream.js';
import { type ParallelOptions, tallyLogs } from './read/tally-logs.js';
import { Summariser, summaryLines } from './summarise.js';

export interface QueryOptions {
  /** Live log paths (each read with its rotated siblings). */
  files: string[];
  filter: EventFilter;
  /** The newest N (undefined: the default for the mode). */
  limit?: number;
  all: boolean;
  reverse: boolean;
  mode: 'rows' | 'count' | 'summary';
  json: boolean;
  output?: string[];
  utc: boolean;
  colour: boolean;
  follow: boolean;
  backlog: boolean;
  cursorFile?: string;
  failEmpty: boolean;
  /** How --summary and --count may spread over worker threads. */
  parallel: ParallelOptions;
}

export const DEFAULT_LIMIT = 50;

/** Something that prints events: JSON lines or an aligned table. */
interface Printer {
  add(hit: Hit): Promise<void>;
  end(): Promise<void>;
}

function makePrinter(opts: QueryOptions, sink: LineSink, follow: boolean): Printer {
  if (opts.json) {
    const fields = opts.output;
    return {
      add: (hit) => sink.line(fields ? JSON.stringify(Object.fromEntries(fields.map((f) => [f, rawField(hit.event, f)]))) : hit.json),
      end: () => sink.flush(),
    };
  }
  const table = new TableWriter(sink, {
    columns: opts.output ?? DEFAULT_COLUMNS,
    utc: opts.utc,
    paint: opts.colour ? ansiPaint : noPaint,
    // Following prints rows as they come: fix the widths up front.
    batch: follow ? 1 : 1000,
    minWidths: follow ? { type: 28, user: 8, container: 20, source: 12 } : {},
  });
  return {
    add: (hit) => table.add(hit),
    end: async () => {
      await table.flush();
      await sink.flush();
    },
  };
}

/** Runs a query, summary, count or follow; returns the exit code. */
export async function runQuery(opts: QueryOptions, io: Pick<CliIo, 'stdout' | 'stderr'>): Promise<number> {
  const warn = (message: string) => io.stderr.write(`ds01-events: ${message}\n`);
  const stats: ReadStats = { skipped: 0 };
  const sink = new LineSink(io.stdout);
  const existing = opts.files.filter((f) => listLogFiles(f).length > 0);
  if (existing.length === 0 && !opts.follow) {
    warn(`no events logged yet (${opts.files.join(', ')} does not exist)`);
    if (opts.mode === 'count') await sink.line('0');
    if (opts.mode === 'summary' && opts.json) await sink.line(JSON.stringify(new Summariser(opts.utc).result()));
    await sink.flush();
    return opts.failEmpty ? 1 : 0;
  }

  const cursor = opts.cursorFile ? readCursor(opts.cursorFile) : undefined;
  const forward = async () => mergeHits(await Promise.all(opts.files.map((f) => forwardFrom(f, opts.filter, stats, cursor, warn))));

  let matched = 0;
  let lastPrinted: Hit | undefined;

  if (opts.mode === 'summary') {
    const summary = (await tallyLogs(opts.files, opts.filter, 'summary', opts.utc, opts.parallel, stats)) as Summariser;
    const result = summary.result();
    matched = result.total;
    if (opts.json) await sink.line(JSON.stringify(result));
    else for (const line of summaryLines(result, opts.utc)) await sink.line(line);
    await sink.flush();
  } else if (opts.mode === 'count') {
    matched = (await tallyLogs(opts.files, opts.filter, 'count', opts.utc, opts.parallel, stats)).count;
    await sink.line(String(matched));
    await sink.flush();
  } else {
    const followStarts = opts.follow ? opts.files.map((f) => followStartOf(f)) : [];
    const printer = makePrinter(opts, sink, opts.follow);
    const print = async (hit: Hit) => {
      matched++;
      lastPrinted = hit;
      await printer.add(hit);
    };
    const showBacklog = !opts.follow || opts.backlog;
    if (showBacklog) {
      if (cursor || opts.cursorFile) {
        // A consumer reads everything after its cursor, oldest first; an
        // explicit --limit takes the oldest N so the next run goes on from there.
        let n = 0;
        const max = opts.limit !== undefined && !opts.all ? opts.limit : Number.POSITIVE_INFINITY;
        outer: for await (const batch of await forward()) {
          for (const hit of batch) {
            if (n >= max) break outer;
            n++;
            await print(hit);
          }
        }
      } else if (opts.all && !opts.reverse) {
        for await (const batch of await forward()) for (const hit of batch) await print(hit);
      } else if (opts.all) {
        const newestFirst = mergeHits(
          opts.files.map((f) => backwardHits(f, opts.filter, stats)),
          true,
        );
        for await (const batch of newestFirst) for (const hit of batch) await print(hit);
      } else {
        const newest = await newestN(opts, stats, opts.limit ?? DEFAULT_LIMIT);
        if (!opts.reverse) newest.reverse();
        for (const hit of newest) await print(hit);
      }
    }
    await printer.end();
    if (opts.cursorFile && lastPrinted) writeCursor(opts.cursorFile, lastPrinted.event);

    if (opts.follow) {
      const followers = opts.files.map((file, i) => {
        let start = followStarts[i];
        // Do not print again what the backlog already read past the start.
        if (start && lastPrinted && lastPrinted.file === file && lastPrinted.end > start.offset) {
          start = { ino: start.ino, offset: lastPrinted.end };
        }
        return { file, follower: new LogFollower(file, opts.filter, stats, start) };
      });
      // On stderr, so --json stays pure; it also tells scripts the positions are fixed.
      warn(`following ${opts.files.join(', ')} (Ctrl+C to stop)`);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.once('SIGHUP', stop);
      await followLogs(
        followers,
        async (hits) => {
          for (const hit of hits) await print(hit);
          await printer.end();
          if (opts.cursorFile && lastPrinted) writeCursor(opts.cursorFile, lastPrinted.event);
        },
        abort.signal,
      );
      if (stats.skipped > 0) warn(`skipped ${stats.skipped} malformed line${stats.skipped === 1 ? '' : 's'}`);
      return 0;
    }
  }

  if (stats.skipped > 0) warn(`skipped ${stats.skipped} malformed line${stats.skipped === 1 ? '' : 's'}`);
  if (matched === 0) {
    if (opts.mode === 'rows' && !opts.json) warn('no events matched (widen --since, or drop a filter)');
    return opts.failEmpty ? 1 : 0;
  }
  return 0;
}

/** Forward events of one log, starting after the cursor when there is one. */
async function forwardFrom(
  live: string,
  filter: EventFilter,
  stats: ReadStats,
  cursor: Cursor | undefined,
  warn: (message: string) => void,
): Promise<AsyncGenerator<Hit[]>> {
  if (!cursor) return forwardHits(live, filter, stats);
  const resume = cursor.id ? await locate(live, cursor) : undefined;
  if (resume) return forwardHits(live, filter, stats, resume);
  // The cursor event is not in this log (rotated out, or another log): go on from its time.
  if (cursor.id) {
    warn(`cursor event ${cursor.id} not found in ${live}; reading events after ${new Date(cursor.time).toISOString()}`);
  }
  const since = Math.max(filter.since ?? Number.NEGATIVE_INFINITY, cursor.time + 1);
  return forwardHits(live, { ...filter, since }, stats);
}

/** Finds the cursor event's file and the offset just after it. */
async function locate(live: string, cursor: Cursor): Promise<ResumePoint | undefined> {
  const probe = buildFilter({ ids: [cursor.id as string], since: cursor.time - CLOCK_SKEW_MS, until: cursor.time + CLOCK_SKEW_MS });
  for await (const batch of forwardHits(live, probe, { skipped: 0 })) {
    const hit = batch[0];
    if (hit) return { file: hit.file, offset: hit.end };
  }
  return undefined;
}

/**
 * The newest `n` matches, newest first, in bounded memory: read backward from
 * the end, stopping at the n-th match or, with --since, at the first line
 * older than the window (less the clock skew that the forward binary search
 * allows too), so `--since 1h` reads its last events, not the whole hour.
 */
async function newestN(opts: QueryOptions, stats: ReadStats, n: number): Promise<Hit[]> {
  const out: Hit[] = [];
  const streams = opts.files.map((f) => backwardHits(f, opts.filter, stats));
  outer: for await (const batch of mergeHits(streams, true)) {
    for (const hit of batch) {
      out.push(hit);
      if (out.length >= n) break outer;
    }
  }
  for (const s of streams) await s.return(undefined);
  return out;
}
