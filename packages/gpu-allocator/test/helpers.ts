import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Result } from 'execa';
import { dockerApi, testImage, uniqueName } from '../../../test-support/docker.js';
import { fakeNvidiaSmi } from '../../../test-support/fake-gpus.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON answers, checked field by field by the assertions
export type Json = any;

export const BIN = fileURLToPath(new URL('../dist/bin/ds01-gpu.cjs', import.meta.url));
export const TEST_LABEL = 'ds01test.gpu-allocator';
export const SCOPE_KEY = 'ds01test.scope';

export const A100 = [
  'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'GPU-2955cb34-0454-fd36-bafd-e4714c589273',
  'GPU-c5661bc0-3b22-d06c-46f2-029255c1ae30',
  'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406',
] as const;

export const BASE_CONFIG = `
defaults:
  max_gpu_equivalents: 1
  max_gpu_slots_per_container: 1
  allow_full_gpu: true
  gpu_hold_after_stop_h: 0.25
default_group: student
groups:
  student:
    max_gpu_equivalents: 2
    max_gpu_slots_per_container: 2
access_control:
  admin_group: ds01-admin
`;

export interface Sandbox {
  dir: string;
  env: Record<string, string>;
  run: (args: string[], extra?: Record<string, string | undefined>) => Promise<Result>;
  /** Runs with --json and parses stdout. */
  json: (args: string[], extra?: Record<string, string | undefined>) => Promise<{ code: number; out: Json }>;
  state: () => Json;
  events: (type?: string) => Json[];
  writeConfig: (yaml: string) => void;
  stateFile: string;
}

/** A temp dir with its own config, state and event log, and the nvidia-smi stand-in on a scenario. */
export function sandbox(options: { scenario?: string; config?: string } = {}): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gpu-test-'));
  fs.chmodSync(dir, 0o755);
  const configFile = path.join(dir, 'resource-limits.yaml');
  const writeConfig = (yaml: string) => fs.writeFileSync(configFile, yaml);
  writeConfig(options.config ?? BASE_CONFIG);
  const env: Record<string, string> = {
    DS01_CONFIG: configFile,
    DS01_STATE_DIR: path.join(dir, 'state'),
    DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
    DS01_NVIDIA_SMI: fakeNvidiaSmi,
    DS01_FAKE_GPUS: options.scenario ?? 'a100x4',
    // The stand-in is a Node script; on a saturated test machine it can miss the 15 s default.
    DS01_NVIDIA_SMI_TIMEOUT_MS: '300000',
    // Tests share one engine: each sandbox sees only its own containers.
    DS01_GPU_SCOPE_LABEL: `${SCOPE_KEY}=${path.basename(dir)}`,
  };
  const stateFile = path.join(dir, 'state', 'gpu-state.json');
  const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
    execa(process.execPath, [BIN, ...args], {
      env: { ...process.env, DS01_AS_USER: undefined, SUDO_USER: undefined, ...env, ...extra },
      reject: false,
      timeout: 60_000,
    });
  const json = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const r = await run([...args, '--json'], extra);
    let out: Json;
    try {
      out = JSON.parse(String(r.stdout));
    } catch {
      throw new Error(`not JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
    }
    return { code: r.exitCode ?? -1, out };
  };
  return {
    dir,
    env,
    run,
    json,
    stateFile,
    state: () => JSON.parse(fs.readFileSync(stateFile, 'utf8')),
    events: (type?: string) => {
      const file = env.DS01_EVENTS_FILE as string;
      if (!fs.existsSync(file)) return [];
      const all = fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return type ? all.filter((e) => e.event_type === type) : all;
    },
    writeConfig,
  };
}

export interface ContainerSpec {
  user: string;
  /** The sandbox whose allocator should see it. */
  sb: Sandbox;
  name?: string;
  /** GPU UUIDs requested with DeviceRequests (as `--gpus device=...`). */
  gpus?: string[];
  /** `--gpus all` */
  allGpus?: boolean;
  /** Labels as the wrapper writes them (ds01.user, ds01.managed, ds01.gpu.uuids...). */
  wrapperLabels?: boolean;
  labels?: Record<string, string>;
  start?: boolean;
}

/** Creates a container through the Engine API, labelled as the wrapper would. */
export async function createContainer(spec: ContainerSpec): Promise<{ id: string; name: string }> {
  const name = spec.name ?? uniqueName('gpu');
  const scope = (spec.sb.env.DS01_GPU_SCOPE_LABEL as string).split('=');
  const labels: Record<string, string> = { [TEST_LABEL]: '1', [scope[0] as string]: scope[1] as string, ...(spec.labels ?? {}) };
  if (spec.wrapperLabels !== false) {
    labels['ds01.user'] = spec.user;
    labels['ds01.managed'] = 'true';
    labels['ds01.container_type'] = 'atomic';
    labels['ds01.created_at'] = new Date().toISOString();
    if (spec.gpus?.length) {
      labels['ds01.gpu.uuids'] = spec.gpus.join(',');
      labels['ds01.gpu.uuid'] = spec.gpus[0] as string;
    }
  }
  const deviceRequests = spec.allGpus
    ? [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }]
    : spec.gpus?.length
      ? [{ Driver: 'nvidia', DeviceIDs: spec.gpus, Capabilities: [['gpu']] }]
      : [];
  const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
    Image: testImage,
    Cmd: ['sleep', '3600'],
    Labels: labels,
    StopTimeout: 1,
    HostConfig: { DeviceRequests: deviceRequests, NetworkMode: 'none' },
  });
  if (res.status !== 201 || !res.json) throw new Error(`create failed: ${res.status} ${res.text}`);
  if (spec.start) await startContainer(res.json.Id);
  return { id: res.json.Id, name };
}

export async function startContainer(id: string): Promise<void> {
  const r = await dockerApi('POST', `/containers/${id}/start`);
  if (r.status !== 204 && r.status !== 304) throw new Error(`start failed: ${r.status} ${r.text}`);
}

export async function stopContainer(id: string): Promise<void> {
  const r = await dockerApi('POST', `/containers/${id}/stop?t=0`);
  if (r.status !== 204 && r.status !== 304) throw new Error(`stop failed: ${r.status} ${r.text}`);
}

export async function removeContainer(id: string): Promise<void> {
  const r = await dockerApi('DELETE', `/containers/${id}?force=1`);
  if (r.status !== 204 && r.status !== 404) throw new Error(`remove failed: ${r.status} ${r.text}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The wrapper's flow: allocate, create the container with the GPUs and labels, bind.
 * Returns the allocate answer and the container.
 */
export async function wrapperCreate(
  sb: Sandbox,
  user: string,
  opts: { count?: number; start?: boolean; prefer?: string; name?: string } = {},
): Promise<{ alloc: Json; id: string; name: string }> {
  const name = opts.name ?? uniqueName(`${user}-c`);
  const args = ['allocate', '--user', user, '--container', name, '--count', String(opts.count ?? 1)];
  if (opts.prefer) args.push('--prefer', opts.prefer);
  const a = await sb.json(args, { DS01_AS_USER: user });
  if (a.code !== 0) throw new Error(`allocate failed: ${JSON.stringify(a.out)}`);
  const c = await createContainer({ sb, user, name, gpus: a.out.gpus.map((g: { uuid: string }) => g.uuid), start: opts.start ?? true });
  const b = await sb.json(['bind', '--reservation', a.out.reservation, '--container-id', c.id], { DS01_AS_USER: user });
  if (b.code !== 0) throw new Error(`bind failed: ${JSON.stringify(b.out)}`);
  return { alloc: a.out, ...c };
}
