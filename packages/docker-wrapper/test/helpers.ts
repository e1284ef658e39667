import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerInspect } from '@ds01/events-core/engine';
import { factsFromInspect, isExemptFromMaintenance, readGpuUse } from '@ds01/events-core/labels';
import { execa, type Options, type Result } from 'execa';
import { expect } from 'vitest';
import { dockerApi, dockerHost } from '../../../test-support/docker.js';
import { fakeNvidiaSmi } from '../../../test-support/fake-gpus.js';
import { shellQuote } from '../src/shell-quote.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const wrapperBin = path.join(repoRoot, 'packages/docker-wrapper/dist/bin/ds01-docker.cjs');
/** The real allocator, built from its package (tests never import it). */
export const gpuBin = path.join(repoRoot, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs');
/** The real client used under the wrapper (Debian's docker.io). */
export const realDocker = '/usr/bin/docker';

export const BASE_CONFIG = `
defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 2
  allow_full_gpu: true
  memory: 1g
  max_cpus: 1
  pids_limit: 256
  shm_size: 64m
  max_containers_per_user: 6
default_group: student
groups:
  student: {}
access_control:
  admin_group: ds01-admin
gpu_allocation:
  wait_max_s: 2
  wait_interval_s: 1
`;

/** Two GPUs per user, one per container, nothing held after a stop: the GPU tests' site. */
export const ONE_GPU_PER_CONTAINER = `
defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 1
  allow_full_gpu: true
  gpu_hold_after_stop_h: 0
`;

export interface Sandbox {
  dir: string;
  config: string;
  events: string;
  state: string;
  env(user?: string | null, extra?: Record<string, string>): Record<string, string>;
  readEvents(): Array<{ event_type: string; user: string; details: Record<string, unknown> }>;
  cleanup(): void;
}

/** A temp dir with its own config, event log and state; env() gives the wrapper's environment acting as `user`. */
export function makeSandbox(configYaml: string = BASE_CONFIG): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-dw-'));
  fs.chmodSync(dir, 0o755);
  // In a folder of its own that stays root's 0755 when a test opens `dir` to a real user: only such a
  // config is used for anyone but root (src/config-override.ts).
  fs.mkdirSync(path.join(dir, 'etc'), { mode: 0o755 });
  const config = path.join(dir, 'etc', 'resource-limits.yaml');
  fs.writeFileSync(config, configYaml);
  const events = path.join(dir, 'events.jsonl');
  const state = path.join(dir, 'state');
  return {
    dir,
    config,
    events,
    state,
    env(user = 'alice', extra = {}) {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        DOCKER_HOST: process.env.DOCKER_HOST ?? '',
        DS01_CONFIG: config,
        DS01_EVENTS_FILE: events,
        DS01_STATE_DIR: state,
        DS01_REAL_DOCKER: realDocker,
        DS01_GPU_BIN: gpuBin,
        DS01_NVIDIA_SMI: fakeNvidiaSmi,
        DS01_FAKE_GPUS: 'a100x4',
        ...extra,
      };
      if (user) env.DS01_AS_USER = user;
      return env;
    },
    readEvents() {
      if (!fs.existsSync(events)) return [];
      return fs
        .readFileSync(events, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the built wrapper bin (as root, acting as the env's DS01_AS_USER). */
export function wrapper(args: string[], env: Record<string, string>, opts: Options = {}): Promise<Result> {
  const stdin = opts.input === undefined ? { stdin: 'ignore' as const } : {};
  return execa(process.execPath, [wrapperBin, ...args], { env, extendEnv: false, reject: false, ...stdin, ...opts }) as Promise<Result>;
}

/** Run in a container through a pseudo-terminal: says whether it has a TTY, echoes a line typed in, exits 3. */
export const TTY_PROBE = ['sh', '-c', 'test -t 0 && echo TTY-YES; read line; echo "GOT-$line"; exit 3'];

/** What TTY_PROBE run with `hello` typed in must show: a TTY, the input, and its exit code back. */
export function expectTtyProbe(r: Result): void {
  expect(String(r.stdout)).toContain('TTY-YES');
  expect(String(r.stdout)).toContain('GOT-hello');
  expect(r.exitCode).toBe(3);
}

/** Runs argv inside a pseudo-terminal (util-linux `script`), typing `input` into it. */
export function inPseudoTerminal(argv: string[], env: Record<string, string>, input: string): Promise<Result> {
  const cmd = argv.map(shellQuote).join(' ');
  return execa('script', ['-qec', cmd, '/dev/null'], { env, extendEnv: false, reject: false, input }) as Promise<Result>;
}

/** The container's inspect data, or null when it does not exist. */
export async function inspectContainer(ref: string): Promise<null | {
  Id: string;
  Name: string;
  State: { Running: boolean; Status: string; Paused: boolean };
  Config: { Labels: Record<string, string>; Env: string[] };
  HostConfig: Record<string, unknown> & { DeviceRequests: null | Array<{ DeviceIDs: string[] | null; Count: number }> };
}> {
  const r = await dockerApi<never>('GET', `/containers/${encodeURIComponent(ref)}/json`);
  if (r.status === 404) return null;
  if (r.status !== 200) throw new Error(`inspect ${ref}: ${r.status} ${r.text}`);
  return r.json as never;
}

/** Creates and starts a container straight through the API (not the wrapper), e.g. bob's victim. */
export async function apiContainer(name: string, labels: Record<string, string>, cmd = ['sleep', '300']): Promise<string> {
  const image = process.env.DS01_TEST_IMAGE ?? 'ds01-test/busybox:latest';
  const r = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, {
    Image: image,
    Cmd: cmd,
    Labels: { 'ds01-test.wrapper': '1', ...labels },
    HostConfig: { NetworkMode: 'none' },
  });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`);
  const s = await dockerApi('POST', `/containers/${r.json!.Id}/start`);
  if (s.status !== 204) throw new Error(`start ${name}: ${s.status} ${s.text}`);
  return r.json!.Id;
}

export const TEST_LABEL = 'ds01-test.wrapper=1';

/**
 * The same decision in this process, through the public API (`dispatch`, as
 * the bin calls it): no Node start per attempt, which keeps the bypass
 * matrices affordable. Only for attempts that end before the real client
 * would run (denials), so nothing is printed by docker.
 */
export async function attempt(args: string[], env: Record<string, string>): Promise<{ exitCode: number; stderr: string }> {
  const { dispatch, flushEvents } = await import('../src/index.js');
  process.env.DS01_EVENTS_FILE = env.DS01_EVENTS_FILE;
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const outcome = await dispatch(args, env);
    await flushEvents();
    return { exitCode: outcome.code ?? 128, stderr };
  } finally {
    process.stderr.write = write;
  }
}

/**
 * Lets the group `docker` open the test daemon's socket (root:root 0660 in a root-only directory), as on a
 * default install, for tests that run as a real user. Returns the undo.
 */
export function shareDockerSocket(): () => void {
  const sock = dockerHost.replace(/^unix:\/\//, '');
  const before = fs.statSync(sock);
  const dirMode = fs.statSync(path.dirname(sock)).mode & 0o777;
  fs.chmodSync(path.dirname(sock), dirMode | 0o011);
  const group = fs
    .readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('docker:'));
  fs.chownSync(sock, 0, Number(group!.split(':')[2]));
  return () => {
    fs.chownSync(sock, before.uid, before.gid);
    fs.chmodSync(path.dirname(sock), dirMode);
  };
}

/**
 * An image whose own config carries `labels` (committed from a stopped test container), as a Dockerfile
 * `LABEL` line would make it. Returns its reference; remove it with removeImage.
 */
export async function labelledImage(labels: Record<string, string>): Promise<string> {
  const base = process.env.DS01_TEST_IMAGE ?? 'ds01-test/busybox:latest';
  const c = await dockerApi<{ Id: string }>('POST', '/containers/create', {
    Image: base,
    Cmd: ['true'],
    Labels: { 'ds01-test.wrapper': '1' },
  });
  if (c.status !== 201) throw new Error(`create: ${c.status} ${c.text}`);
  const tag = `t${process.pid}-${Date.now().toString(36)}`;
  const img = await dockerApi('POST', `/commit?container=${c.json!.Id}&repo=ds01-test/labelled&tag=${tag}`, {
    Labels: labels,
    Cmd: ['sleep', '300'],
  });
  await dockerApi('DELETE', `/containers/${c.json!.Id}?force=1`);
  if (img.status !== 201) throw new Error(`commit: ${img.status} ${img.text}`);
  return `ds01-test/labelled:${tag}`;
}

export async function removeImage(ref: string): Promise<void> {
  await dockerApi('DELETE', `/images/${encodeURIComponent(ref)}?force=1`);
}

/** `name`'s allocation as the sandbox's state file holds it once bound, polled without running ds01-gpu (which would bind it by name). */
export async function boundInState(
  box: Sandbox,
  name: string,
  withinMs: number,
): Promise<{ state: string; container_id: string | null } | undefined> {
  const file = path.join(box.state, 'gpu-state.json');
  const deadline = Date.now() + withinMs;
  for (;;) {
    const a = fs.existsSync(file)
      ? (
          JSON.parse(fs.readFileSync(file, 'utf8')) as {
            allocations: { container: string; state: string; container_id: string | null }[];
          }
        ).allocations.find((x) => x.container === name)
      : undefined;
    if (a?.container_id || Date.now() > deadline) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A container from an image labelled ds01.protected/monitoring/gpu.*: none of it may have passed to the container. */
export async function expectNothingInherited(container: string, owner: string): Promise<void> {
  const facts = factsFromInspect((await dockerApi<ContainerInspect>('GET', `/containers/${container}/json`)).json!);
  expect(facts.labels).toMatchObject({ 'ds01.protected': '', 'ds01.monitoring': '', 'ds01.gpu.uuids': '', 'ds01.user': owner });
  expect(isExemptFromMaintenance(facts)).toBe(false);
  expect(readGpuUse(facts).hasGpu).toBe(false);
}

/** The labels expectNothingInherited checks, as an image would carry them. */
export const PRIVILEGED_IMAGE_LABELS = {
  'ds01.protected': 'true',
  'ds01.monitoring': 'true',
  'ds01.gpu.uuids': 'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'ds01.gpu.uuid': 'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
};
