import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { afterAll, afterEach } from 'vitest';
import { dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { fakeNvidiaSmi } from '../../../test-support/fake-gpus.js';
import { type LoggedEvent, loggedEvents } from '../../../test-support/jsonl.js';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const bin = path.join(repoRoot, 'packages/maintenance-cleanup/dist/bin/ds01-cleanup.js');
export const fakeGpuBin = path.join(import.meta.dirname, 'fixtures/fake-ds01-gpu.mjs');
export const realGpuBin = path.join(repoRoot, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs');

/** A label on every container these tests make, so a failed test leaves nothing behind. */
export const TEST_LABEL = `ds01.test.cleanup=${process.pid}`;

export const GPU0 = 'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d';
export const GPU1 = 'GPU-2955cb34-0454-fd36-bafd-e4714c589273';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
});
afterAll(async () => {
  if (process.env.DS01_TEST_DOCKER === '1') await removeContainersByLabel(TEST_LABEL);
});

export interface Site {
  dir: string;
  events: string;
  state: string;
  config: string;
  gpuDir: string;
  env: Record<string, string>;
}

/** A private config, event log, state dir and fake allocator for one test. */
export function site(yaml: string, extraEnv: Record<string, string> = {}): Site {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-cleanup-'));
  fs.chmodSync(dir, 0o777);
  dirs.push(dir);
  const s: Site = {
    dir,
    events: path.join(dir, 'events.jsonl'),
    state: path.join(dir, 'state'),
    config: path.join(dir, 'resource-limits.yaml'),
    gpuDir: path.join(dir, 'gpu'),
    env: {},
  };
  fs.mkdirSync(s.gpuDir);
  fs.writeFileSync(s.config, yaml);
  // By default the allocator answers "nothing to do".
  answer(s, 'release', { status: 'released', released: [] });
  answer(s, 'release-stale', { status: 'ok', released: [], dry_run: false });
  answer(s, 'status', { gpus: [], allocations: [], summary: {} });
  fs.writeFileSync(path.join(dir, 'apps.csv'), 'pid, process_name, gpu_uuid, used_gpu_memory [MiB]\n');
  s.env = {
    DS01_CONFIG: s.config,
    DS01_EVENTS_FILE: s.events,
    DS01_STATE_DIR: s.state,
    DS01_GPU_BIN: fakeGpuBin,
    FAKE_GPU_DIR: s.gpuDir,
    DS01_NVIDIA_SMI: fakeNvidiaSmi,
    DS01_FAKE_GPUS: 'a100x4',
    DS01_FAKE_COMPUTE_APPS: path.join(dir, 'apps.csv'),
    ...extraEnv,
  };
  return s;
}

export function answer(s: Site, cmd: string, json: unknown, exit = 0): void {
  fs.writeFileSync(path.join(s.gpuDir, `${cmd}.json`), typeof json === 'string' ? json : `${JSON.stringify(json)}\n`);
  fs.writeFileSync(path.join(s.gpuDir, `${cmd}.exit`), String(exit));
}

export function allocatorCalls(s: Site): string[][] {
  const f = path.join(s.gpuDir, 'calls.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
}

/** Lists GPU processes for the stand-in nvidia-smi. */
export function computeApps(s: Site, rows: { pid: number; name: string; gpu: string; mib: number }[]): void {
  const lines = rows.map((r) => `${r.pid}, ${r.name}, ${r.gpu}, ${r.mib} MiB`);
  fs.writeFileSync(path.join(s.dir, 'apps.csv'), `pid, process_name, gpu_uuid, used_gpu_memory [MiB]\n${lines.join('\n')}\n`);
}

export type { LoggedEvent };

export const events = (s: Site, type?: string): LoggedEvent[] => loggedEvents(s.events, type);

export interface BinResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export async function runCleanup(s: Site, args: string[], opts: Options = {}): Promise<BinResult> {
  const r = await execa(process.execPath, [bin, ...args], { reject: false, env: { ...process.env, ...s.env }, ...opts });
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs with --json and parses the report. */
export async function runJson(s: Site, args: string[]) {
  const r = await runCleanup(s, [...args, '--json']);
  let report: Report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

export interface ReportEntry {
  phase: string;
  container: string;
  container_id: string;
  decision: string;
  outcome?: string;
  reason: string;
  detail: string;
  gpus_released?: string[];
}
export interface Report {
  containers: ReportEntry[];
  orphan_processes: { pid: number; reason: string; user: string | null; container?: string; new: boolean }[];
  orphan_allocations: { id: string; new: boolean }[];
  gpu_releases: { container: string | null; reason: string; gpus: string[] }[];
  counts: Record<string, number>;
  failures: number;
  warnings: string[];
  dry_run: boolean;
}

export function entriesFor(report: Report, name: string): ReportEntry[] {
  return report.containers.filter((c) => c.container === name);
}

export interface NewContainer {
  name?: string;
  labels?: Record<string, string>;
  user?: string;
  managed?: boolean;
  type?: string;
  gpus?: string[];
  cmd?: string[];
  volume?: string;
}

/** Creates (not starts) a container through the Engine API; returns its id and name. */
export async function createContainer(c: NewContainer = {}): Promise<{ id: string; name: string }> {
  const name = c.name ?? uniqueName('cleanup');
  const labels: Record<string, string> = { [TEST_LABEL.split('=')[0] as string]: String(process.pid) };
  if (c.managed !== false) labels['ds01.managed'] = 'true';
  if (c.user) labels['ds01.user'] = c.user;
  labels['ds01.container_type'] = c.type ?? 'atomic';
  if (c.gpus) labels['ds01.gpu.uuids'] = c.gpus.join(',');
  Object.assign(labels, c.labels ?? {});
  const body: Record<string, unknown> = {
    Image: testImage,
    Cmd: c.cmd ?? ['true'],
    Labels: labels,
    HostConfig: {
      NetworkMode: 'none',
      ...(c.gpus ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: c.gpus, Capabilities: [['gpu']] }] } : {}),
    },
    ...(c.volume ? { Volumes: { [c.volume]: {} } } : {}),
  };
  const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, body);
  if (res.status !== 201 || !res.json) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  return { id: res.json.Id, name };
}

export async function start(id: string): Promise<void> {
  const res = await dockerApi('POST', `/containers/${id}/start`);
  if (res.status !== 204 && res.status !== 304) throw new Error(`start ${id}: ${res.status} ${res.text}`);
}

/** Waits for a container to exit (it runs `true` by default). */
export async function waitExit(id: string): Promise<void> {
  const res = await dockerApi('POST', `/containers/${id}/wait`);
  if (res.status !== 200) throw new Error(`wait ${id}: ${res.status} ${res.text}`);
}

/** Creates, starts and waits: an exited container. */
export async function exitedContainer(c: NewContainer = {}): Promise<{ id: string; name: string }> {
  const made = await createContainer(c);
  await start(made.id);
  await waitExit(made.id);
  return made;
}

export async function stateOf(id: string): Promise<string | null> {
  const res = await dockerApi<{ State: { Status: string } }>('GET', `/containers/${id}/json`);
  if (res.status === 404) return null;
  return res.json?.State.Status ?? null;
}

/** Sleeps for a hold measured in seconds to pass (holds in tests are a few seconds). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const execaOpts = (s: Site): Options => ({ reject: false, env: { ...process.env, ...s.env } });
export { execa };
