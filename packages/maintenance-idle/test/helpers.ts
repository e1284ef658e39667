import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll } from 'vitest';
import { dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { fakeNvidiaSmi } from '../../../test-support/fake-gpus.js';
import { type LoggedEvent, loggedEvents, readJsonLines } from '../../../test-support/jsonl.js';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const bin = path.join(repoRoot, 'packages/maintenance-idle/dist/bin/ds01-idle.js');
/** Every container a test starts carries this label, for clean-up. */
export const TEST_LABEL = `ds01-idle-test=${process.pid}`;

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL);
});

export interface Site {
  dir: string;
  stateDir: string;
  eventsFile: string;
  configFile: string;
  env: Record<string, string>;
}

/**
 * A `ds01-gpu` stand-in (a shell script, so runs stay cheap) whose `status
 * --json` reports `allocated` of `total` GPU units, per the contract.
 */
export function fakeGpuBin(dir: string, allocated: number, total: number): string {
  const file = path.join(dir, `ds01-gpu-${allocated}-of-${total}`);
  const status = {
    gpus: [],
    allocations: [],
    summary: { total_slots: total, allocated_slots: allocated, total_weight: total, allocated_weight: allocated },
  };
  fs.writeFileSync(file, `#!/bin/sh\n[ "$1" = status ] || exit 2\necho '${JSON.stringify(status)}'\n`, { mode: 0o755 });
  return file;
}

/**
 * A temp site: config (YAML given), state dir, events file, the nvidia-smi
 * stand-in with `scenario`, and a ds01-gpu stand-in reporting low demand.
 */
export function makeSite(configYaml: string, extraEnv: Record<string, string> = {}, scenario = 'a100x4'): Site {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-idle-'));
  fs.chmodSync(dir, 0o755);
  const stateDir = path.join(dir, 'state');
  const eventsFile = path.join(dir, 'events.jsonl');
  const configFile = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(configFile, configYaml);
  return {
    dir,
    stateDir,
    eventsFile,
    configFile,
    env: {
      DS01_CONFIG: configFile,
      DS01_STATE_DIR: stateDir,
      DS01_EVENTS_FILE: eventsFile,
      DS01_NVIDIA_SMI: fakeNvidiaSmi,
      DS01_FAKE_GPUS: scenario,
      DS01_GPU_BIN: fakeGpuBin(dir, 1, 8),
      ...extraEnv,
    },
  };
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the report is checked field by field
  report: any;
}

/** One run of the built bin with --json (plus `args`), filtered to `names` when given. */
export async function runIdle(
  site: Site,
  args: string[] = [],
  opts: { json?: boolean; uid?: number; gid?: number } = {},
): Promise<RunResult> {
  const json = opts.json ?? true;
  const r = await execa(process.execPath, [bin, ...(json ? ['--json'] : []), ...args], {
    env: { ...process.env, ...site.env },
    reject: false,
    timeout: 60_000,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  let report: unknown;
  if (json && r.exitCode === 0 && r.stdout) report = JSON.parse(String(r.stdout));
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), report };
}

/** Runs only over the given containers (each test's own), via --name-filter. */
export function only(...names: string[]): string[] {
  return ['--name-filter', `^(${names.join('|')})$`];
}

export interface StartOptions {
  user?: string;
  cmd?: string[];
  labels?: Record<string, string>;
  gpus?: string[];
  /** CPU limit in cores (NanoCpus), to keep busy loops cheap. */
  cpus?: number;
  name?: string;
}

/** Creates and starts a container; returns its id and name. */
export async function startContainer(o: StartOptions = {}): Promise<{ id: string; name: string }> {
  const name = o.name ?? uniqueName('idle');
  const [k, v] = TEST_LABEL.split('=') as [string, string];
  const labels: Record<string, string> = { [k]: v, 'ds01.managed': 'true', 'ds01.container_type': 'atomic', ...o.labels };
  if (o.user) labels['ds01.user'] = o.user;
  const body = {
    Image: testImage,
    Cmd: o.cmd ?? ['sleep', '3600'],
    Labels: labels,
    HostConfig: {
      NetworkMode: 'none',
      ...(o.cpus ? { NanoCpus: Math.round(o.cpus * 1e9) } : {}),
      ...(o.gpus ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: o.gpus, Capabilities: [['gpu']] }] } : {}),
    },
  };
  const created = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, body);
  if (created.status !== 201 || !created.json) throw new Error(`create ${name}: ${created.status} ${created.text}`);
  const started = await dockerApi('POST', `/containers/${created.json.Id}/start`);
  if (started.status !== 204) throw new Error(`start ${name}: ${started.status} ${started.text}`);
  return { id: created.json.Id, name };
}

// biome-ignore lint/suspicious/noExplicitAny: inspect JSON
export async function inspect(id: string): Promise<any> {
  const r = await dockerApi('GET', `/containers/${id}/json`);
  return r.status === 200 ? r.json : null;
}

export async function isRunning(id: string): Promise<boolean> {
  return Boolean((await inspect(id))?.State?.Running);
}

export type EventLine = LoggedEvent;

export const readEvents = (site: Site, type?: string): EventLine[] => loggedEvents(site.eventsFile, type);

// biome-ignore lint/suspicious/noExplicitAny: inbox lines
export const readInbox = (site: Site, user: string): any[] => readJsonLines(path.join(site.stateDir, 'inbox', `${user}.jsonl`));

// biome-ignore lint/suspicious/noExplicitAny: state JSON
export function readState(site: Site): any {
  const file = path.join(site.stateDir, 'idle-state.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
}

// biome-ignore lint/suspicious/noExplicitAny: report rows
export function row(r: RunResult, name: string): any {
  return r.report?.containers?.find((c: { name: string }) => c.name === name);
}

/** Run results with whether each named container was running right after. */
export interface Step {
  run: RunResult;
  running: Record<string, boolean>;
}

/** Runs back to back (each run is a cron run) until `done` or the deadline; returns every step. */
export async function runUntil(
  site: Site,
  containers: Record<string, { id: string; name: string }>,
  done: (steps: Step[]) => boolean,
  deadlineMs: number,
  pauseMs = 1000,
  onStep?: (steps: Step[]) => Promise<void>,
): Promise<Step[]> {
  const filter = only(...Object.values(containers).map((x) => x.name));
  const steps: Step[] = [];
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const run = await runIdle(site, filter);
    const running: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(containers)) running[k] = await isRunning(v.id);
    steps.push({ run, running });
    if (run.exitCode !== 0 || done(steps)) break;
    await onStep?.(steps);
    await sleep(pauseMs);
  }
  return steps;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ms` after `t0` (real time; the job measures real time). */
export async function until(t0: number, ms: number): Promise<void> {
  const wait = t0 + ms - Date.now();
  if (wait > 0) await sleep(wait);
}
