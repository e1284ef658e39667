import { createInterface } from 'node:readline';
import type { CommandContext } from '../context.js';
import type { Prefer } from '../decide-allocation.js';
import { stopGpuQueries } from '../inventory/run-nvidia-smi.js';
import { type CommandResult, kv } from '../result.js';
import { prepare } from '../transaction.js';
import { allocate } from './allocate.js';
import { bind } from './bind.js';

/**
 * `allocate --stdin`: the wrapper's fast path for `docker run --gpus`. The
 * wrapper starts the allocator the moment it sees a GPU request, before it
 * has checked anything, so this process reads nvidia-smi, Docker and the
 * config while the wrapper is still starting up. Then, on stdin:
 *
 *   {"user":"alice","container":"name","count":1}   → the allocate answer
 *   {"bind":"<container id>"}                       → the bind answer
 *
 * End of input before the request cancels (nothing reserved or logged: the
 * wrapper refused the command). End of input instead of the bind leaves the
 * reservation pending, bound by name by the next ds01-gpu command. One
 * process does both, so a GPU create starts one allocator, not two.
 */
export interface SessionIo {
  /** The next line of input, or null at its end. */
  nextLine(): Promise<string | null>;
  /** Prints one answer at once (the wrapper is waiting for it). */
  emit(result: CommandResult): void;
}

export interface SessionRequest {
  user: string;
  container: string;
  count: number;
  prefer?: Prefer;
}

export class RequestError extends Error {
  override name = 'RequestError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseLine(line: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new RequestError(`the ${what} on stdin is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (!isRecord(v)) throw new RequestError(`the ${what} on stdin must be a JSON object`);
  return v;
}

/** The request line, held to the same rules as allocate's flags. */
export function parseRequest(line: string): SessionRequest {
  const v = parseLine(line, 'request');
  const unknown = Object.keys(v).filter((k) => !['user', 'container', 'count', 'prefer'].includes(k));
  if (unknown.length > 0) throw new RequestError(`unknown field(s) in the request: ${unknown.join(', ')}`);
  for (const key of ['user', 'container'] as const) {
    if (typeof v[key] !== 'string' || v[key] === '') throw new RequestError(`the request's "${key}" must be a non-empty string`);
  }
  const count = v.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
    throw new RequestError(`the request's "count" must be a whole number of 1 or more (got ${JSON.stringify(v.count)})`);
  if (v.prefer !== undefined && v.prefer !== 'full' && v.prefer !== 'mig')
    throw new RequestError(`the request's "prefer" must be "full" or "mig" (got ${JSON.stringify(v.prefer)})`);
  return {
    user: v.user as string,
    container: v.container as string,
    count,
    ...(v.prefer ? { prefer: v.prefer as Prefer } : {}),
  };
}

function parseBind(line: string): string {
  const v = parseLine(line, 'bind line');
  if (Object.keys(v).length !== 1 || typeof v.bind !== 'string' || v.bind === '')
    throw new RequestError('the line after the request must be {"bind":"<container id>"}');
  return v.bind;
}

function cancelled(): CommandResult {
  return { code: 0, json: { status: 'cancelled' }, lines: [kv('STATUS', 'CANCELLED')] };
}

/** Runs the session; the exit code is the last answer's. */
export async function allocateSession(ctx: CommandContext, io: SessionIo): Promise<CommandResult['code']> {
  const prepared = prepare();
  prepared.catch(() => {}); // awaited by allocate; a cancelled session never asks
  const requestLine = await io.nextLine();
  if (requestLine === null) {
    stopGpuQueries();
    io.emit(cancelled());
    return 0;
  }
  const answer = await allocate(ctx, parseRequest(requestLine), prepared);
  io.emit(answer);
  if (answer.json.status !== 'allocated') return answer.code;
  const bindLine = await io.nextLine();
  if (bindLine === null) return answer.code;
  const bound = await bind(ctx, answer.json.reservation as string, parseBind(bindLine));
  io.emit(bound);
  return bound.code;
}

/** Lines from this process's stdin; close() stops reading, so the process can end before its input does. */
export function stdinLines(): { nextLine: SessionIo['nextLine']; close(): void } {
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let ended = false;
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    nextLine: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: () => {
      rl.close();
      process.stdin.destroy();
    },
  };
}
