import os from 'node:os';
import { eventsFilePath } from '@ds01/events-core/read';
import { buildFilter, type DetailCondition, type FilterSpec } from './build-filter.js';
import { wantColour } from './output/colour.js';
import { FIELD_NAMES, isKnownField } from './output/fields.js';
import { parseTimeSpec, TimeSpecError } from './parse-time.js';
import type { QueryOptions } from './query.js';
import type { ParallelOptions } from './read/tally-logs.js';

/** A usage error: the CLI prints it with a hint and exits 2. */
export class UsageError extends Error {}

/** The query flags as yargs hands them over (repeated flags arrive as arrays). */
export interface QueryArgs {
  user?: string | string[];
  type?: string | string[];
  container?: string | string[];
  source?: string | string[];
  actor?: string | string[];
  host?: string | string[];
  id?: string | string[];
  detail?: string | string[];
  since?: string | string[];
  until?: string | string[];
  limit?: string | string[];
  all?: boolean;
  json?: boolean;
  follow?: boolean;
  summary?: boolean;
  count?: boolean;
  reverse?: boolean;
  utc?: boolean;
  backlog?: boolean;
  color?: boolean;
  output?: string | string[];
  file?: string | string[];
  cursorFile?: string | string[];
  failEmpty?: boolean;
}

/** Repeated flags and comma lists both give alternatives; empty items are dropped. */
export function listOf(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((v) => v.trim());
  return items.filter((v) => v.length > 0);
}

/** For flags that take one value: the last one given (as the original tool did). */
function single(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function required(flag: string, value: string | string[] | undefined): string[] | undefined {
  const list = listOf(value);
  if (list !== undefined && list.length === 0) throw new UsageError(`--${flag} needs a value`);
  return list;
}

export function parseDetailFlags(value: string | string[] | undefined): DetailCondition[] {
  const out: DetailCondition[] = [];
  for (const raw of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    const eq = String(raw).indexOf('=');
    if (eq <= 0) throw new UsageError(`--detail "${raw}": expected key=value (e.g. --detail reason=USER_AT_LIMIT)`);
    const key = String(raw).slice(0, eq);
    const values = String(raw)
      .slice(eq + 1)
      .split(',');
    out.push({ key, values });
  }
  return out;
}

function parseTime(flag: string, value: string | undefined, now: number, utc: boolean): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTimeSpec(value, { now, utc });
  } catch (err) {
    if (err instanceof TimeSpecError) throw new UsageError(`--${flag}: ${err.message}`);
    throw err;
  }
}

/** Default piece of a split --summary/--count scan: big enough that starting a worker is worth it. */
export const DEFAULT_PIECE_BYTES = 32 << 20;
/** Counting threads at most by default: each costs memory (peak RSS must stay under 150 MB) for little more speed. */
export const MAX_DEFAULT_WORKERS = 4;

/**
 * Threads that count for --summary and --count, this one included:
 * DS01_EVENTS_WORKERS (0 or 1: this thread alone) and DS01_EVENTS_PIECE_BYTES,
 * tuning knobs for administrators and tests; by default one per core, at
 * most four.
 */
export function parallelOf(env: NodeJS.ProcessEnv): ParallelOptions {
  const whole = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
      throw new UsageError(`${name}: "${raw}" is not a whole number of at least ${min}`);
    }
    return Number(raw);
  };
  return {
    workers: whole('DS01_EVENTS_WORKERS', 0) ?? Math.min(os.availableParallelism(), MAX_DEFAULT_WORKERS),
    pieceBytes: whole('DS01_EVENTS_PIECE_BYTES', 1) ?? DEFAULT_PIECE_BYTES,
  };
}

/** Turns parsed flags into query options, checking every value; throws UsageError. */
export function toQueryOptions(args: QueryArgs, env: NodeJS.ProcessEnv, now = Date.now(), isTty = false): QueryOptions {
  const utc = Boolean(args.utc);
  const since = parseTime('since', single(args.since), now, utc);
  const until = parseTime('until', single(args.until), now, utc);
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`--since (${new Date(since).toISOString()}) is after --until (${new Date(until).toISOString()})`);
  }
  let limit: number | undefined;
  const limitText = single(args.limit);
  if (limitText !== undefined) {
    if (!/^\d+$/.test(String(limitText).trim()) || Number(limitText) < 1) {
      throw new UsageError(`--limit: "${limitText}" is not a positive whole number (use --all for no limit)`);
    }
    limit = Number(limitText);
  }
  const spec: FilterSpec = {};
  const lists: [keyof FilterSpec, string, string | string[] | undefined][] = [
    ['users', 'user', args.user],
    ['types', 'type', args.type],
    ['containers', 'container', args.container],
    ['sources', 'source', args.source],
    ['actors', 'actor', args.actor],
    ['hosts', 'host', args.host],
    ['ids', 'id', args.id],
  ];
  for (const [key, flag, value] of lists) {
    const list = required(flag, value);
    if (list) (spec as Record<string, unknown>)[key] = list;
  }
  for (const t of spec.types ?? []) {
    if (!/^!?[A-Za-z0-9_.*?[\]{}!,|()+@-]+$/.test(t))
      throw new UsageError(`--type: "${t}" is not an event type or glob (e.g. gpu.*, *.denied)`);
  }
  const details = parseDetailFlags(args.detail);
  if (details.length > 0) spec.details = details;
  if (since !== undefined) spec.since = since;
  if (until !== undefined) spec.until = until;

  let output: string[] | undefined;
  if (args.output !== undefined) {
    output = listOf(args.output) ?? [];
    if (output.length === 0) throw new UsageError('--output needs a comma list of fields');
    for (const f of output) {
      if (!isKnownField(f)) throw new UsageError(`--output: unknown field "${f}" (fields: ${FIELD_NAMES.join(', ')}, details.KEY)`);
    }
  }
  const files = listOf(args.file) ?? [];
  const cursorFile = single(args.cursorFile);
  const modes = [args.summary && '--summary', args.count && '--count', args.follow && '--follow'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
  if (cursorFile !== undefined && (args.summary || args.count || args.reverse)) {
    throw new UsageError('--cursor-file reads events in order: it cannot be combined with --summary, --count or --reverse');
  }
  if (args.follow && args.reverse) throw new UsageError('--follow cannot be combined with --reverse');
  const opts: QueryOptions = {
    files: files.length > 0 ? files : [eventsFilePath(env)],
    filter: buildFilter(spec),
    all: Boolean(args.all),
    reverse: Boolean(args.reverse),
    mode: args.summary ? 'summary' : args.count ? 'count' : 'rows',
    json: Boolean(args.json),
    utc,
    colour: !args.json && wantColour(args.color, env, isTty),
    follow: Boolean(args.follow),
    backlog: args.backlog !== false,
    failEmpty: Boolean(args.failEmpty),
    parallel: parallelOf(env),
  };
  if (limit !== undefined) opts.limit = limit;
  if (output) opts.output = output;
  if (cursorFile !== undefined) opts.cursorFile = cursorFile;
  return opts;
}
