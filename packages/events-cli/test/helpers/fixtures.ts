import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { afterEach } from 'vitest';

const made: string[] = [];

/** A fresh temporary directory, removed after the test; world-writable for unprivileged runs. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-events-cli-'));
  fs.chmodSync(dir, 0o777);
  made.push(dir);
  return dir;
}

afterEach(() => {
  while (made.length) fs.rmSync(made.pop() as string, { recursive: true, force: true });
});

export const BIN = path.resolve(import.meta.dirname, '../../dist/bin/ds01-events.cjs');
/** A zone with DST and a non-zero offset, so local-vs-UTC mistakes show. */
export const TZ = 'America/New_York';
// Node re-reads TZ when it is assigned: in-process runs see New York too.
process.env.TZ = TZ;

let seq = 0;

/** A UUIDv7 for an instant (time in the first 48 bits), unique per call. */
export function uuid7(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  seq++;
  const rand = seq.toString(16).padStart(15, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6, 15).padStart(12, '0')}`;
}

export interface EvOpts {
  user?: string;
  source?: string;
  details?: Record<string, unknown>;
  host?: string;
  actor?: { uid: number; user: string | null; as_user?: string };
  id?: string;
}

/** One stored v2 line, shaped like events-core writes it. */
export function v2(timestamp: string, type: string, o: EvOpts = {}): string {
  const t = Date.parse(timestamp);
  const ev: Record<string, unknown> = { timestamp, event_type: type, schema_version: '2' };
  if (o.user) ev.user = o.user;
  if (o.source) ev.source = o.source;
  if (o.details) ev.details = o.details;
  ev.id = o.id ?? uuid7(t);
  ev.host = o.host ?? 'gpu01';
  ev.pid = 4242;
  ev.actor = o.actor ?? { uid: 0, user: 'root' };
  return JSON.stringify(ev);
}

/** A v1 record as the original Python library wrote it (microseconds, no id). */
export function v1(timestamp: string, type: string, user: string, details: Record<string, unknown>, source?: string): string {
  const ev: Record<string, unknown> = { timestamp, event_type: type, schema_version: '1', user };
  if (source) ev.source = source;
  ev.details = details;
  return JSON.stringify(ev);
}

/** A pre-v1 flat record. */
export function legacy(ts: string, event: string, user: string, container: string): string {
  return JSON.stringify({ ts, event, user, container, gpu: 1 });
}

export function writeLog(file: string, lines: string[]): void {
  fs.writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
}

export function appendLog(file: string, lines: string[]): void {
  fs.appendFileSync(file, `${lines.join('\n')}\n`);
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs the built bin with the log at `file`, TZ set to New York and no colour by default. */
export async function run(
  args: string[],
  file: string | null,
  opts: { uid?: number; gid?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const env: Record<string, string> = { TZ, ...(file ? { DS01_EVENTS_FILE: file } : {}), ...(opts.env ?? {}) };
  const r = await execa(process.execPath, [BIN, ...args], {
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    env,
    extendEnv: true,
    reject: false,
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Parses each stdout line with jq (the real one), failing on anything jq rejects. */
export async function jqLines(stdout: string): Promise<Record<string, unknown>[]> {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) return [];
  const r = await execa('/usr/bin/jq', ['-c', '.'], { input: `${lines.join('\n')}\n`, reject: false });
  if (r.exitCode !== 0) throw new Error(`jq rejected the output: ${r.stderr}\n${stdout}`);
  const parsed = r.stdout.split('\n').filter(Boolean);
  if (parsed.length !== lines.length) throw new Error(`jq read ${parsed.length} values from ${lines.length} lines`);
  return parsed.map((l) => JSON.parse(l));
}

export const typesOf = (events: Record<string, unknown>[]) => events.map((e) => e.event_type);

/** Runs the CLI in this process (fast), capturing its output; TZ is New York for the whole test file. */
export async function cli(args: string[], file: string | null, env: Record<string, string> = {}) {
  const { runCli } = await import('../../src/cli.js');
  let stdout = '';
  let stderr = '';
  const sink = (onText: (t: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        onText(String(chunk));
        done();
      },
    });
  const exitCode = await runCli(args, {
    stdout: sink((t) => {
      stdout += t;
    }),
    stderr: sink((t) => {
      stderr += t;
    }),
    env: { ...(file ? { DS01_EVENTS_FILE: file } : {}), ...env },
  });
  return { exitCode, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '') };
}
