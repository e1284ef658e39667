import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const watchBin = path.join(repoRoot, 'packages/docker-wrapper/dist/bin/ds01-docker-watch.js');

export interface Sandbox {
  dir: string;
  eventsFile: string;
  stateDir: string;
  stateFile: string;
  /** Lines the stub ds01-gpu appends, one per `reconcile` run. */
  gpuCalls: string;
  env: NodeJS.ProcessEnv;
}

/** A temp dir with its own events log, state dir and a stub `ds01-gpu` that records each call. */
export function makeSandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-watch-'));
  const gpuCalls = path.join(dir, 'gpu-calls.log');
  const stub = path.join(dir, 'ds01-gpu');
  fs.writeFileSync(stub, `#!/bin/sh\necho "$*" >> '${gpuCalls}'\necho '{"status":"ok","released":[],"dry_run":false}'\n`, { mode: 0o755 });
  const stateDir = path.join(dir, 'state');
  const eventsFile = path.join(dir, 'events.jsonl');
  return {
    dir,
    eventsFile,
    stateDir,
    stateFile: path.join(stateDir, 'docker-watch.json'),
    gpuCalls,
    env: { ...process.env, DS01_EVENTS_FILE: eventsFile, DS01_STATE_DIR: stateDir, DS01_GPU_BIN: stub, ...extraEnv },
  };
}

export interface LoggedEvent {
  event_type: string;
  user?: string;
  source?: string;
  pid?: number;
  details?: Record<string, unknown>;
}

export function readLogged(file: string): LoggedEvent[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoggedEvent);
}

/** Watcher events about one container. */
export function eventsFor(file: string, containerId: string): LoggedEvent[] {
  return readLogged(file).filter((e) => e.details?.container_id === containerId);
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wrapped: a subprocess is a promise, and an async function returning it would wait for its exit. */
export interface WatcherProcess {
  proc: ResultPromise<{ env: NodeJS.ProcessEnv; reject: false; all: true }>;
}

/** Starts the built bin and waits for its `monitor.start` (it is then subscribed, or about to be). */
export async function startWatcher(box: Sandbox, args: string[] = []): Promise<WatcherProcess> {
  const before = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.start').length;
  const proc = execa(process.execPath, [watchBin, ...args], { env: box.env, reject: false, all: true });
  await waitFor('the watcher to start', () => {
    if (proc.exitCode !== null) throw new Error(`watcher exited ${proc.exitCode}`);
    return readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.start').length > before;
  });
  return { proc };
}

export async function stopWatcher({ proc }: WatcherProcess): Promise<number | undefined> {
  proc.kill('SIGTERM');
  const result = await proc;
  return result.exitCode;
}

/** The watcher's `container.*` events for these ids, as `type id` strings (for exact multiset comparison). */
export function typesById(file: string, ids: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of readLogged(file)) {
    const id = e.details?.container_id;
    if (e.source !== 'ds01-docker-watch' || typeof id !== 'string' || !ids.has(id)) continue;
    const list = out.get(id) ?? [];
    list.push(e.event_type);
    out.set(id, list);
  }
  return out;
}
