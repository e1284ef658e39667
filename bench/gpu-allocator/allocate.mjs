#!/usr/bin/env node
// Benchmark: `ds01-gpu allocate` with 20, 200 and 1,000 containers on the host,
// side by side with the baseline the original allocator pays on every call: one
// listing plus one inspect per container (DS01 ran several such passes per allocation).
//
//   npm run build   (the bin is bundled at build time; a bare tsc leaves it slower)
//   node bench/gpu-allocator/allocate.mjs [--runs 7] [--sizes 20,200,1000]
//
// Uses DOCKER_HOST if it answers, else starts a private dockerd (root, Debian docker.io)
// through test-support/docker-daemon.mjs. Containers are `docker create`d from the busybox
// test image (10 running, the rest never started; 4 hold GPUs through wrapper labels) and
// removed at the end.
// nvidia-smi is a recording (bench/support/nvidia-smi-replay.mjs): ds01's own cost.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchDocker } from '../support/bench-docker.mjs';
import { recordNvidiaSmi } from '../support/nvidia-smi-replay.mjs';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', '7'));
const sizes = opt('sizes', '20,200,1000').split(',').map(Number);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const { docker, api } = await benchDocker();
const scope = `ds01bench.scope=${process.pid}`;
const [scopeKey, scopeValue] = scope.split('=');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gpu-bench-'));
fs.writeFileSync(
  path.join(dir, 'resource-limits.yaml'),
  'defaults: { max_gpu_equivalents: 4, max_gpu_slots_per_container: 4, allow_full_gpu: true }\ndefault_group: student\n',
);
const replay = await recordNvidiaSmi(dir);
const env = {
  ...process.env,
  DOCKER_HOST: docker.dockerHost,
  DS01_CONFIG: path.join(dir, 'resource-limits.yaml'),
  DS01_STATE_DIR: path.join(dir, 'state'),
  DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
  DS01_NVIDIA_SMI: replay,
  DS01_GPU_SCOPE_LABEL: scope,
};
delete env.DS01_AS_USER;
const GPUS = ['GPU-88bfa489-a208-1706-fee2-2bcef87fa90d', 'GPU-2955cb34-0454-fd36-bafd-e4714c589273'];

let made = 0;
async function createUpTo(n) {
  while (made < n) {
    const i = made++;
    const labels = { [scopeKey]: scopeValue };
    const gpu = i < 2;
    if (gpu) Object.assign(labels, { 'ds01.user': 'bob', 'ds01.managed': 'true', 'ds01.gpu.uuids': GPUS[i] });
    const body = {
      Image: docker.image,
      Cmd: ['sleep', '86400'],
      Labels: labels,
      HostConfig: gpu ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: [GPUS[i]], Capabilities: [['gpu']] }] } : {},
    };
    const r = await api('POST', `/containers/create?name=ds01bench-${process.pid}-${i}`, body);
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text ?? ''}`);
    if (i < 10) await api('POST', `/containers/${r.json().Id}/start`);
  }
}

async function timeAllocate(k) {
  const t0 = process.hrtime.bigint();
  const r = await run(process.execPath, [bin, 'allocate', '--user', 'alice', '--container', `bench-${k}`, '--json'], { env }).catch(
    (e) => e,
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const out = JSON.parse(String(r.stdout));
  if (out.status !== 'allocated') throw new Error(`allocate: ${r.stdout}`);
  await run(process.execPath, [bin, 'release', '--container', `bench-${k}`, '--json'], { env });
  return ms;
}

async function timeBaseline() {
  // What DS01 did at least once per allocation: list every container, then inspect each one.
  const t0 = process.hrtime.bigint();
  const filters = encodeURIComponent(JSON.stringify({ label: [scope] }));
  const list = await api('GET', `/containers/json?all=1&filters=${filters}`);
  const items = list.json();
  for (const c of items) await api('GET', `/containers/${c.Id}/json`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function timeListing() {
  const t0 = process.hrtime.bigint();
  const filters = encodeURIComponent(JSON.stringify({ label: [scope] }));
  await api('GET', `/containers/json?all=1&filters=${filters}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// What allocate asks Docker for: its four filtered listings, side by side (from the built package, so the same table).
const { listingFilters } = await import(path.join(root, 'packages/gpu-allocator/dist/docker/snapshot.js'));
async function timeFilteredListings() {
  const t0 = process.hrtime.bigint();
  await Promise.all(
    listingFilters(scope).map((f) => api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(f))}`)),
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function timeNode() {
  const t0 = process.hrtime.bigint();
  await run(process.execPath, ['-e', '0']);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const rows = [];
try {
  let k = 0;
  for (const n of sizes) {
    await createUpTo(n);
    await timeAllocate(k++); // warm-up: first call inspects the running containers once and caches them
    const alloc = [];
    const base = [];
    const node = [];
    const listing = [];
    const filtered = [];
    for (let i = 0; i < runs; i++) {
      alloc.push(await timeAllocate(k++));
      base.push(await timeBaseline());
      node.push(await timeNode());
      listing.push(await timeListing());
      filtered.push(await timeFilteredListings());
    }
    const row = {
      containers: n,
      allocate_ms: median(alloc),
      baseline_list_and_inspect_ms: median(base),
      node_startup_ms: median(node),
      full_listing_ms: median(listing),
      filtered_listings_ms: median(filtered),
    };
    row.ratio_baseline_over_allocate = Number((row.baseline_list_and_inspect_ms / row.allocate_ms).toFixed(2));
    rows.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  const filters = encodeURIComponent(JSON.stringify({ label: [scope] }));
  const list = await api('GET', `/containers/json?all=1&filters=${filters}`);
  for (const c of list.json()) await api('DELETE', `/containers/${c.Id}?force=1`);
  await docker.stop();
}
console.log(
  `\nload average at the end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (${os.cpus().length} CPUs)`,
);
console.table(rows);
