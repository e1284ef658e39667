#!/usr/bin/env node
// One ds01-idle run over N running GPU containers, side by side with the
// original job's per-container approach, in one run (these machines are noisy).
//
//   node bench/maintenance-idle/run-200.mjs [--containers 200] [--sample 5]
//
// Starts a private dockerd (test-support, as root) unless DOCKER_HOST answers,
// starts N `sleep` containers holding GPUs (DeviceRequests on the a100x4
// nvidia-smi stand-in), then:
//   1. ds01-idle, first run (baseline samples; every container new) and a
//      second run (deltas, decisions), wall time including node start-up;
//   2. the original's approach on --sample containers, one at a time, with the
//      docker CLI: inspect (GPU test), inspect (owner/type/StartedAt),
//      nvidia-smi utilisation for its GPU, `docker stats --no-stream` twice
//      (CPU, then NetIO), `docker exec ps aux`; the mean is multiplied by N.
//      This is a lower bound for the original (it also starts Python for each
//      config lookup and more docker calls per container).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { ensureDocker } from '../../test-support/docker-daemon.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = path.join(root, 'packages/maintenance-idle/dist/bin/ds01-idle.js');
const nvidiaSmi = path.join(root, 'test-support/bin/nvidia-smi');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('containers', 200);
const SAMPLE = arg('sample', 5);
const GPUS = [
  'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'GPU-2955cb34-0454-fd36-bafd-e4714c589273',
  'GPU-c5661bc0-3b22-d06c-46f2-029255c1ae30',
  'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406',
];
const LABEL = `ds01-bench-idle=${process.pid}`;
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

const docker = await ensureDocker({ log });
if ('unavailable' in docker) {
  console.error(`no Docker: ${docker.unavailable}`);
  process.exit(1);
}
const api = new Docker(docker.dockerHost.startsWith('unix://') ? { socketPath: docker.dockerHost.slice(7) } : undefined);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-bench-idle-'));
const [key, value] = LABEL.split('=');
const ids = [];
try {
  log(`starting ${N} containers`);
  const t0 = Date.now();
  await pool(
    Array.from({ length: N }, (_, i) => i),
    8,
    async (i) => {
      const c = await api.createContainer({
        name: `bench-idle-${process.pid}-${i}`,
        Image: docker.image,
        Cmd: ['sleep', '3600'],
        Labels: { [key]: value, 'ds01.user': ['alice', 'bob', 'carol'][i % 3], 'ds01.managed': 'true', 'ds01.container_type': 'atomic' },
        HostConfig: { NetworkMode: 'none', DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: [GPUS[i % 4]], Capabilities: [['gpu']] }] },
      });
      await c.start();
      ids.push(c.id);
    },
  );
  log(`started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const config = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(config, 'defaults:\n  idle_timeout_h: 1\npolicies:\n  grace_period_m: 0\n');
  const gpuBin = path.join(dir, 'ds01-gpu');
  fs.writeFileSync(
    gpuBin,
    `#!/bin/sh\necho '{"gpus":[],"allocations":[],"summary":{"total_slots":4,"allocated_slots":4,"total_weight":4,"allocated_weight":4}}'\n`,
    { mode: 0o755 },
  );
  const env = {
    ...process.env,
    DOCKER_HOST: docker.dockerHost,
    DS01_CONFIG: config,
    DS01_STATE_DIR: path.join(dir, 'state'),
    DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
    DS01_NVIDIA_SMI: nvidiaSmi,
    DS01_FAKE_GPUS: 'a100x4',
    DS01_GPU_BIN: gpuBin,
  };

  // CPU time (user+sys of ds01-idle and its nvidia-smi/ds01-gpu children) from
  // /usr/bin/time: unlike wall time, it does not depend on how busy the machine is.
  const idleRun = async (label) => {
    const t = process.hrtime.bigint();
    const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, bin, '--json'], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    const report = JSON.parse(stdout);
    if (report.counts.considered !== N) throw new Error(`${label}: considered ${report.counts.considered}, expected ${N}`);
    const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
    return { wall, inside: report.duration_ms, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN };
  };
  const first = await idleRun('first run');
  const second = await idleRun('second run');

  log(`original approach on ${SAMPLE} containers`);
  const { DS01_REAL_DOCKER: realDocker } = process.env;
  const dockerCli = realDocker || '/usr/bin/docker';
  const cliEnv = { ...process.env, DOCKER_HOST: docker.dockerHost };
  const t1 = process.hrtime.bigint();
  for (const id of ids.slice(0, SAMPLE)) {
    await run(dockerCli, ['inspect', '--format', '{{json .HostConfig.DeviceRequests}}', id], { env: cliEnv });
    await run(dockerCli, ['inspect', '--format', '{{json .Config.Labels}} {{.State.StartedAt}}', id], { env: cliEnv });
    await run(nvidiaSmi, ['--query-gpu=utilization.gpu', '--format=csv,noheader,nounits', '-i', GPUS[0]], {
      env: { ...cliEnv, DS01_FAKE_GPUS: 'a100x4' },
    });
    await run(dockerCli, ['stats', '--no-stream', '--format', '{{.CPUPerc}}', id], { env: cliEnv });
    await run(dockerCli, ['exec', id, 'ps', 'aux'], { env: cliEnv });
    await run(dockerCli, ['stats', '--no-stream', '--format', '{{.NetIO}}', id], { env: cliEnv });
  }
  const perContainer = Number(process.hrtime.bigint() - t1) / 1e6 / SAMPLE;
  const original = perContainer * N;

  const load = os.loadavg()[0].toFixed(1);
  console.log(`containers: ${N} running, GPU-holding (cpus: ${os.cpus().length}, load average at the end: ${load})`);
  const fmt = (r) =>
    `${(r.wall / 1000).toFixed(2)} s wall, ${(r.inside / 1000).toFixed(2)} s inside the run, ${(r.cpu / 1000).toFixed(2)} s CPU`;
  console.log(`ds01-idle first run:  ${fmt(first)}`);
  console.log(`ds01-idle second run: ${fmt(second)}`);
  console.log(
    `original approach:    ${(perContainer / 1000).toFixed(2)} s per container, x${N} = ${(original / 1000).toFixed(0)} s (extrapolated from ${SAMPLE})`,
  );
  console.log(`ratio original / ds01-idle (second run, wall): ${(original / second.wall).toFixed(0)}x`);
} finally {
  log('removing containers');
  await pool(ids, 8, (id) =>
    api
      .getContainer(id)
      .remove({ force: true })
      .catch(() => {}),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  await docker.stop();
}
