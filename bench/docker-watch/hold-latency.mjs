#!/usr/bin/env node
// Benchmark: how soon a GPU container's stop shows as a hold in `ds01-gpu
// status` when nothing but ds01-docker-watch runs (issue: "within a second").
// A real engine (DOCKER_HOST, else a private dockerd via test-support), the
// real watcher and the real ds01-gpu; nvidia-smi replays recorded answers.
// Each run: allocate, create (wrapper labels), bind, start, then kill and time
// until the watcher's reconcile has written `gpu.hold`. Side by side: a bare
// `ds01-gpu reconcile --json` and `node -e 0`.
//
//   npm run build
//   node bench/docker-watch/hold-latency.mjs [--runs 7]
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchDocker } from '../support/bench-docker.mjs';
import { recordNvidiaSmi } from '../support/nvidia-smi-replay.mjs';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const gpuBin = path.join(root, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs');
const watchBin = path.join(root, 'packages/docker-wrapper/dist/bin/ds01-docker-watch.js');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const { docker, api } = await benchDocker();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-hold-bench-'));
const eventsFile = path.join(dir, 'events.jsonl');
fs.writeFileSync(
  path.join(dir, 'resource-limits.yaml'),
  'defaults: { allow_full_gpu: true, max_gpu_equivalents: 1, gpu_hold_after_stop_h: 1 }\n',
);
const scope = `ds01bench.scope=${process.pid}`;
const [scopeKey, scopeValue] = scope.split('=');
const env = {
  ...process.env,
  DOCKER_HOST: docker.dockerHost,
  DS01_CONFIG: path.join(dir, 'resource-limits.yaml'),
  DS01_STATE_DIR: path.join(dir, 'state'),
  DS01_EVENTS_FILE: eventsFile,
  DS01_NVIDIA_SMI: await recordNvidiaSmi(dir),
  DS01_GPU_BIN: gpuBin,
  DS01_GPU_SCOPE_LABEL: scope,
};
delete env.DS01_AS_USER;
const gpu = async (...args) => JSON.parse((await run(process.execPath, [gpuBin, ...args, '--json'], { env }).catch((e) => e)).stdout);
const holds = () => {
  try {
    return fs
      .readFileSync(eventsFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event_type":"gpu.hold"')).length;
  } catch {
    return 0;
  }
};

const watcher = spawn(process.execPath, [watchBin, 'run'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
while (!fs.existsSync(eventsFile) || !fs.readFileSync(eventsFile, 'utf8').includes('"monitor.start"')) await sleep(20);

const latency = [];
const reconcile = [];
const node = [];
const ids = [];
try {
  for (let i = 0; i < runs; i++) {
    const name = `ds01bench-hold-${process.pid}-${i}`;
    const alloc = await gpu('allocate', '--user', 'alice', '--container', name);
    if (alloc.status !== 'allocated') throw new Error(`allocate: ${JSON.stringify(alloc)}`);
    const uuids = alloc.gpus.map((g) => g.uuid);
    const res = await api('POST', `/containers/create?name=${name}`, {
      Image: docker.image,
      Cmd: ['sleep', '3600'],
      Labels: { [scopeKey]: scopeValue, 'ds01.user': 'alice', 'ds01.managed': 'true', 'ds01.gpu.uuids': uuids.join(',') },
      HostConfig: { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: uuids, Capabilities: [['gpu']] }], NetworkMode: 'none' },
    });
    if (res.status !== 201) throw new Error(`create: ${res.status}`);
    const id = res.json().Id;
    ids.push(id);
    await gpu('bind', '--reservation', alloc.reservation, '--container-id', id);
    await api('POST', `/containers/${id}/start`);
    await sleep(300);
    const before = holds();
    const t0 = process.hrtime.bigint();
    await api('POST', `/containers/${id}/kill`);
    while (holds() === before) await sleep(5);
    latency.push(msSince(t0));
    await gpu('release', '--container', name);

    let t = process.hrtime.bigint();
    await run(process.execPath, [gpuBin, 'reconcile', '--json'], { env });
    reconcile.push(msSince(t));
    t = process.hrtime.bigint();
    await run(process.execPath, ['-e', '0']);
    node.push(msSince(t));
  }
} finally {
  watcher.kill('SIGTERM');
  for (const id of ids) await api('DELETE', `/containers/${id}?force=1`);
  await docker.stop();
}
const row = {
  runs,
  kill_to_hold_ms: Math.round(median(latency)),
  kill_to_hold_max_ms: Math.round(Math.max(...latency)),
  bare_reconcile_ms: Math.round(median(reconcile)),
  node_startup_ms: Math.round(median(node)),
};
console.log(JSON.stringify(row));
console.log(
  `load average at the end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (${os.cpus().length} CPUs)`,
);
