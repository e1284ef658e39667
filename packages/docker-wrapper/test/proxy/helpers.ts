import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { dockerHost, removeContainersByLabel } from '../../../../test-support/docker.js';
import { fakeNvidiaSmi } from '../../../../test-support/fake-gpus.js';
import { gpuBin, repoRoot, TEST_LABEL } from '../helpers.js';

export const proxyBin = path.join(repoRoot, 'packages/docker-wrapper/dist/bin/ds01-docker-proxy.js');

export const PROXY_CONFIG = `
defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 2
  allow_full_gpu: true
  memory: 1g
  max_cpus: 1
  pids_limit: 256
  shm_size: 64m
  max_containers_per_user: 30
  gpu_hold_after_stop_h: 0
default_group: student
groups:
  student:
    members: [alice, bob]
user_overrides:
  carol:
    max_containers_per_user: 0
access_control:
  admin_group: ds01-admin
gpu_allocation:
  wait_max_s: 0
  wait_interval_s: 1
`;

export interface ProxyBox {
  dir: string;
  socketDir: string;
  config: string;
  events: string;
  state: string;
  proxy: ResultPromise;
  stderr(): string;
  socket(user: string): string;
  /** Environment for ds01 tools run by the test (the allocator's status...). */
  toolEnv(): Record<string, string>;
  readEvents(): Array<{ event_type: string; user: string; source: string; details: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** Starts the built proxy as root on a temp socket dir for the given users, upstream = the test daemon. */
/** `users` null: the proxy reads its users from the config (and `{{SOCKETS}}` in the YAML becomes the socket dir). */
export async function startProxy(users: string[] | null, configYaml = PROXY_CONFIG, extraArgs: string[] = []): Promise<ProxyBox> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-px-'));
  fs.chmodSync(dir, 0o755);
  const socketDir = path.join(dir, 's');
  const config = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(config, configYaml.replaceAll('{{SOCKETS}}', socketDir));
  const events = path.join(dir, 'events.jsonl');
  const state = path.join(dir, 'state');
  const toolEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    DOCKER_HOST: dockerHost,
    DS01_CONFIG: config,
    DS01_EVENTS_FILE: events,
    DS01_STATE_DIR: state,
    DS01_GPU_BIN: gpuBin,
    DS01_NVIDIA_SMI: fakeNvidiaSmi,
    DS01_FAKE_GPUS: 'a100x4',
  });
  const proxy = execa(
    process.execPath,
    [proxyBin, ...(users ? ['--socket-dir', socketDir, '--users', users.join(',')] : []), '--upstream', dockerHost, ...extraArgs],
    { env: toolEnv(), extendEnv: false, reject: false, stdin: 'ignore', buffer: false },
  );
  let stderr = '';
  proxy.stderr?.on('data', (c: Buffer) => {
    stderr += String(c);
  });
  const deadline = Date.now() + 30_000;
  while (!stderr.includes('ready:')) {
    if (proxy.exitCode !== null || Date.now() > deadline) throw new Error(`the proxy did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    socketDir,
    config,
    events,
    state,
    proxy,
    stderr: () => stderr,
    socket: (user) => path.join(socketDir, user, 'docker.sock'),
    toolEnv,
    readEvents() {
      if (!fs.existsSync(events)) return [];
      return fs
        .readFileSync(events, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    async stop() {
      proxy.kill('SIGTERM');
      await proxy;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A command run as the real user (runuser: their uid, gid and groups), pointed at their proxy socket. */
export function asUser(box: ProxyBox, user: string, cmd: string[], input?: string, extraEnv: Record<string, string> = {}) {
  return execa('runuser', ['-u', user, '--', ...cmd], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: `/home/${user}`, DOCKER_HOST: `unix://${box.socket(user)}`, ...extraEnv },
    extendEnv: false,
    reject: false,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
}

/** The real docker client as the user, through their socket. */
export const dockerAs = (box: ProxyBox, user: string, args: string[], input?: string) =>
  asUser(box, user, ['/usr/bin/docker', ...args], input);

/** One raw Engine API request as the user (curl on the unix socket): status and parsed body. */
export async function apiAs(
  box: ProxyBox,
  user: string,
  method: string,
  path: string,
  body?: unknown,
  socket = box.socket(user),
): Promise<{ status: number; json: unknown; text: string; exitCode: number; stderr: string }> {
  const args = ['/usr/bin/curl', '-s', '-S', '--unix-socket', socket, '-X', method, '-w', '\n%{http_code}'];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
  args.push(`http://docker${path}`);
  const r = await asUser(box, user, args, body === undefined ? undefined : JSON.stringify(body));
  const out = String(r.stdout);
  const cut = out.lastIndexOf('\n');
  const text = out.slice(0, cut);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: Number(out.slice(cut + 1)), json, text, exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

/** What happens when the user opens a unix socket: 'connected' or the errno code. */
export async function connectAs(box: ProxyBox, user: string, socket: string): Promise<string> {
  const script = `require('net').connect(${JSON.stringify(socket)}).on('connect',function(){console.log('connected');this.destroy()}).on('error',e=>console.log(e.code))`;
  const r = await asUser(box, user, [process.execPath, '-e', script]);
  return String(r.stdout).trim();
}

/**
 * A proxy for alice alone, with `overrides` (YAML lines, indented under
 * `user_overrides: alice:`) in the site config: started before the calling
 * block's tests, stopped (and its test containers removed) after them.
 */
export function proxyForAlice(overrides: string): () => ProxyBox {
  let box: ProxyBox | undefined;
  beforeAll(async () => {
    box = await startProxy(['alice'], PROXY_CONFIG.replace('user_overrides:\n', `user_overrides:\n  alice:\n${overrides}`));
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await box?.stop();
  });
  return () => box as ProxyBox;
}
