#!/usr/bin/env node
// What the docker wrapper adds to a docker command, side by side with the
// real client alone, in one run against a real engine:
//
//   node bench/docker-wrapper/overhead.mjs [iterations] [containers]
//
// Builds nothing: run `npm run build` first (the bins are bundled at build
// time; a bare tsc leaves them unbundled and slower). Uses DOCKER_HOST if it
// answers, else starts a private dockerd (as the tests do). Puts
// `containers` (default 200) containers on the host first, then times, for
// each case, the real client and the wrapper alternately and prints medians.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDocker } from '../../test-support/docker-daemon.mjs';
import { recordNvidiaSmi } from '../support/nvidia-smi-replay.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const iterations = Number(process.argv[2] ?? 15);
const containers = Number(process.argv[3] ?? 200);
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a benchmark run by hand, not a turbo task
const real = process.env.DS01_REAL_DOCKER ?? '/usr/bin/docker';
const wrapperJs = path.join(root, 'packages/docker-wrapper/dist/bin/ds01-docker.cjs');
const { renderLauncher } = await import(path.join(root, 'packages/docker-wrapper/dist/index.js'));

const docker = await ensureDocker({ log: (m) => process.stderr.write(`[bench] ${m}\n`) });
if ('unavailable' in docker) {
  console.error(`no Docker: ${docker.unavailable}`);
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-bench-dw-'));
const launcher = path.join(dir, 'docker');
fs.writeFileSync(launcher, renderLauncher({ realDocker: real, node: process.execPath, wrapper: wrapperJs }), { mode: 0o755 });
fs.writeFileSync(
  path.join(dir, 'config.yaml'),
  'defaults:\n  max_gpu_equivalents: 4\n  max_gpu_slots_per_container: 1\n  allow_full_gpu: true\n  max_containers_per_user: 1000\naccess_control:\n  admin_group: ds01-admin\n',
);
const env = {
  ...process.env,
  DOCKER_HOST: docker.dockerHost,
  DS01_CONFIG: path.join(dir, 'config.yaml'),
  DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
  DS01_STATE_DIR: path.join(dir, 'state'),
  DS01_REAL_DOCKER: real,
  DS01_GPU_BIN: path.join(root, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs'),
  // Recorded answers replayed from sh: the figures are ds01's own cost (bench/support/nvidia-smi-replay.mjs).
  DS01_NVIDIA_SMI: await recordNvidiaSmi(dir),
  DS01_AS_USER: 'alice',
};
const image = docker.image ?? 'ds01-test/busybox:latest';
const LABEL = 'ds01-bench.wrapper=1';
const d = (...args) => execFileSync(real, args, { env, encoding: 'utf8' }).trim();

process.stderr.write(`[bench] putting ${containers} containers on the host\n`);
for (let i = 0; i < containers; i++)
  d('create', '-l', LABEL, '-l', `ds01.user=${i % 2 ? 'bob' : 'carol'}`, '-l', 'ds01.managed=true', image, 'true');
const mine = d('create', '--name', `bench-alice-${process.pid}`, '-l', LABEL, '-l', 'ds01.user=alice', image, 'true');

// Wall time, and CPU time (user+sys of the whole process tree, from GNU time): on a
// loaded machine the CPU figure is the steadier measure of the work added.
function time(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { ms, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The allowance for a checked verb, measured rather than assumed: a bare Node start that makes one
// Engine API call, then the real client runs. Two ways: run as Node's child (how the wrapper ran it before
// the launcher's hand-off), and exec'd by sh once Node has answered on a pipe, as the launcher does now
// (src/hand-off.ts), the leaner of the two and the one the wrapper is held to. Like the wrapper behind its
// launcher, both start without NODE_EXTRA_CA_CERTS, which this VM sets for every process (see the README).
const floorScript = (then) => `const http = require('node:http');
const [apiPath, ...args] = process.argv.slice(2);
// servername: as in the wrapper's Engine client, which spares Node's agent an IPv6 regex compile (8-15 ms here):
// a floor written the obvious way would carry that cost, and flatter the wrapper by as much.
http.get({ socketPath: process.env.DOCKER_HOST.replace(/^unix:\\/\\//, ''), path: apiPath, servername: '' }, (res) => {
  res.resume();
  res.on('end', () => { ${then} });
});
`;
const floorChild = path.join(dir, 'floor-child.cjs');
fs.writeFileSync(
  floorChild,
  floorScript(
    `require('node:child_process').spawn(${JSON.stringify(real)}, args, { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 1));`,
  ),
);
// What a floor answers the launcher's hand-off lines on fd 3 (as src/hand-off.ts does): exec the real client.
const answerExec = `require('node:fs').writeSync(3, 'exec ${real} "$@"\\n'); require('node:fs').closeSync(3); process.exit(0);`;
const floorExec = path.join(dir, 'floor-exec.cjs');
fs.writeFileSync(floorExec, floorScript(answerExec));
// The leanest call Node can make: HTTP/1.0 written on a bare socket (node:net), read to the close: how the
// wrapper's Engine client has made its calls since node:http's cost was measured (events-core engine/exchange.ts).
const floorNet = path.join(dir, 'floor-net.cjs');
fs.writeFileSync(
  floorNet,
  `const net = require('node:net');
const [apiPath] = process.argv.slice(2);
const socket = net.connect(process.env.DOCKER_HOST.replace(/^unix:\\/\\//, ''));
socket.write('GET ' + apiPath + ' HTTP/1.0\\r\\nHost: docker\\r\\n\\r\\n');
socket.resume();
socket.on('end', () => { ${answerExec} });
`,
);
const floorViaChild = path.join(dir, 'floor-child');
fs.writeFileSync(floorViaChild, `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec ${process.execPath} ${floorChild} "$@"\n`, { mode: 0o755 });
/** A floor behind the launcher's own hand-off lines (src/launcher.ts), in the wrapper's place. */
function viaHandOff(name, script) {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nds01_p=$1; shift\n{ ds01_run=$(${process.execPath} ${script} "$ds01_p" 3>&1 1>&4 4>&- 0<&5 5<&- &); } 4>&1 5<&0\neval "\${ds01_run:-exit 1}"\n`,
    { mode: 0o755 },
  );
  return file;
}
const floorViaExec = viaHandOff('floor-exec', floorExec);
const floorViaNet = viaHandOff('floor-net', floorNet);
// On a site, root's tools (the allocator, the cron jobs) keep a snapshot of the config's access part beside the
// state (events-core config/access-snapshot.ts), which spares the wrapper the YAML parser; one allocator run as
// root makes it here. The "config just edited" row times the wrapper without it.
await new Promise((resolve) => setTimeout(resolve, 200));
fs.mkdirSync(env.DS01_STATE_DIR, { recursive: true });
execFileSync(process.execPath, [env.DS01_GPU_BIN, 'status', '--json'], { env, stdio: 'ignore' });
if (!fs.existsSync(path.join(env.DS01_STATE_DIR, 'site-access.json'))) throw new Error('ds01-gpu status wrote no access snapshot');
const noSnapshot = path.join(dir, 'launcher-no-snapshot');
fs.writeFileSync(noSnapshot, `#!/bin/sh\nDS01_STATE_DIR=${path.join(dir, 'no-state')} exec ${launcher} "$@"\n`, { mode: 0o755 });
const bareNode = [];
for (let i = 0; i < iterations; i++) bareNode.push(time('/bin/sh', ['-c', `unset NODE_EXTRA_CA_CERTS; exec ${process.execPath} -e 0`]).ms);

const cases = [
  { name: 'images (launcher)', args: ['images'], via: launcher },
  { name: 'version (launcher)', args: ['version'], via: launcher },
  { name: 'images (node wrapper, no launcher)', args: ['images'], via: 'node' },
  // Each checked verb is timed in the same loop as its floor (real, wrapper, floor in turn), so that the
  // machine's drift from one minute to the next does not land between the two.
  { name: 'ps', args: ['ps', '-a'], via: launcher, floor: '/containers/json?all=1', handOff: true },
  { name: 'inspect', args: ['inspect', mine], via: launcher, floor: `/containers/${mine}/json`, handOff: true },
  { name: 'inspect (config just edited: no snapshot)', args: ['inspect', mine], via: noSnapshot, handOff: true },
  {
    name: `run -d --gpus 1 (${containers} containers)`,
    args: ['run', '-d', '-l', LABEL, '-l', 'ds01-bench.run=1', '--gpus', '1', image, 'true'],
    via: launcher,
    cleanup: true,
  },
];

const rows = [];
for (const c of cases) {
  const base = [];
  const wrapped = [];
  const floored = [];
  const flooredExec = [];
  const flooredNet = [];
  for (let i = 0; i < iterations; i++) {
    base.push(time(real, c.args));
    if (c.via === 'node') wrapped.push(time(process.execPath, [wrapperJs, ...c.args]));
    else wrapped.push(time(c.via, c.args));
    if (c.floor) {
      floored.push(time(floorViaChild, [c.floor, ...c.args]));
      flooredExec.push(time(floorViaExec, [c.floor, ...c.args]));
      flooredNet.push(time(floorViaNet, [c.floor, ...c.args]));
    }
    // The wrapper binds the GPU reservation in the background after it returns: let that
    // finish, so it does not run into the next measurement (of either client).
    for (let w = 0; w < 100 && spawnSync('pgrep', ['-f', 'ds01-gpu.cjs']).status === 0; w++) spawnSync('sleep', ['0.05']);
    if (c.cleanup) {
      const ids = d('ps', '-aq', '--filter', 'label=ds01-bench.run=1');
      if (ids) d('rm', '-f', ...ids.split('\n'));
    }
  }
  const b = median(base.map((x) => x.ms));
  const bc = median(base.map((x) => x.cpu));
  // After a hand-off Node is nobody's child (the launcher ran it in the background): GNU time cannot count
  // its CPU, so that column would flatter those rows and is left out.
  const row = (name, runs, handedOff) => {
    const w = median(runs.map((x) => x.ms));
    const wc = median(runs.map((x) => x.cpu));
    return {
      case: name,
      real_ms: b.toFixed(0),
      wrapper_ms: w.toFixed(0),
      added_ms: (w - b).toFixed(0),
      real_cpu_ms: bc.toFixed(0),
      wrapper_cpu_ms: handedOff ? '-' : wc.toFixed(0),
      added_cpu_ms: handedOff ? '-' : (wc - bc).toFixed(0),
    };
  };
  rows.push(row(c.name, wrapped, c.handOff));
  if (c.floor) {
    rows.push(row(`${c.args[0]} floor: node, 1 API call, real client as its child`, floored, false));
    rows.push(row(`${c.args[0]} floor: node, 1 API call, real client exec'd by sh`, flooredExec, true));
    rows.push(row(`${c.args[0]} floor: as above, the call on a bare socket`, flooredNet, true));
  }
}
console.log(
  `docker wrapper overhead: median of ${iterations} runs each, real client ${real}, Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; bare node -e 0: ${median(bareNode).toFixed(0)} ms`,
);
console.table(rows);

d('rm', '-f', ...d('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean));
fs.rmSync(dir, { recursive: true, force: true });
if ('stop' in docker) await docker.stop();
