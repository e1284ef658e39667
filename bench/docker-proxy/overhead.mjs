#!/usr/bin/env node
// What ds01-docker-proxy adds to docker commands, side by side with the real
// client talking to the daemon directly, in one run against a real engine:
//
//   node bench/docker-proxy/overhead.mjs [iterations] [containers]
//
// Build first (npx tsc -p packages/events-core/tsconfig.json && npx tsc -p
// packages/docker-wrapper/tsconfig.json). Run as root. Uses DOCKER_HOST if it
// answers, else starts a private dockerd (as the tests do). Puts `containers`
// (default 200) containers of other users on the host, starts the proxy for
// alice, then times each case through the real client, directly and through
// alice's socket, and through the `docker` launcher as alice (the test user
// alice must exist: test-support/test-users.mjs creates her) both ways: on
// her socket without Node for the verbs the proxy decides, and through the
// wrapper in front of the proxy (what the launcher did before; DS01_CONFIG
// set sends every command to the wrapper), alternately, and prints medians.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDocker } from '../../test-support/docker-daemon.mjs';
import { ensureTestUsers } from '../../test-support/test-users.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const iterations = Number(process.argv[2] ?? 11);
const containers = Number(process.argv[3] ?? 200);
const real = '/usr/bin/docker';
const proxyJs = path.join(root, 'packages/docker-wrapper/dist/bin/ds01-docker-proxy.js');
const wrapperCjs = path.join(root, 'packages/docker-wrapper/dist/bin/ds01-docker.cjs');
const { renderLauncher } = await import(path.join(root, 'packages/docker-wrapper/dist/launcher.js'));

const docker = await ensureDocker({ log: (m) => process.stderr.write(`[bench] ${m}\n`) });
if ('unavailable' in docker) {
  console.error(`no Docker: ${docker.unavailable}`);
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-bench-px-'));
fs.chmodSync(dir, 0o755);
const config = path.join(dir, 'config.yaml');
fs.writeFileSync(
  config,
  'defaults:\n  memory: 1g\n  max_cpus: 1\n  pids_limit: 256\n  max_containers_per_user: 1000\ndefault_group: student\ngroups:\n  student: {}\naccess_control:\n  admin_group: ds01-admin\n',
);
const socketDir = path.join(dir, 's');
const env = {
  ...process.env,
  DS01_CONFIG: config,
  DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
  DS01_STATE_DIR: path.join(dir, 'state'),
};
const proxy = spawn(process.execPath, [proxyJs, '--socket-dir', socketDir, '--users', 'alice', '--upstream', docker.dockerHost], {
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let proxyLog = '';
proxy.stderr.on('data', (c) => {
  proxyLog += c;
});
for (let i = 0; i < 200 && !proxyLog.includes('ready:'); i++) await new Promise((r) => setTimeout(r, 50));
if (!proxyLog.includes('ready:')) throw new Error(`the proxy did not start:\n${proxyLog}`);

const direct = { ...process.env, DOCKER_HOST: docker.dockerHost };
const viaProxy = { ...process.env, DOCKER_HOST: `unix://${socketDir}/alice/docker.sock` };
ensureTestUsers();
const alice = (() => {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('alice:'));
  return line ? { uid: Number(line.split(':')[2]), gid: Number(line.split(':')[3]) } : undefined;
})();
const launcher = path.join(dir, 'docker');
fs.writeFileSync(launcher, renderLauncher({ realDocker: real, node: process.execPath, wrapper: wrapperCjs, proxySocketDir: socketDir }), {
  mode: 0o755,
});
// As a login shell has it on such a site (/etc/profile.d/ds01-docker.sh): DOCKER_HOST is her socket.
const asAlice = { PATH: process.env.PATH, USER: 'alice', HOME: dir, DOCKER_HOST: `unix://${socketDir}/alice/docker.sock` };
const aliceRouted = { ...asAlice };
const aliceWrapped = { ...asAlice, DS01_CONFIG: config };
const image = docker.image ?? 'ds01-test/busybox:latest';
const LABEL = 'ds01-bench.proxy=1';
const d = (...args) => execFileSync(real, args, { env: direct, encoding: 'utf8' }).trim();

process.stderr.write(`[bench] putting ${containers} containers on the host\n`);
for (let i = 0; i < containers; i++) d('create', '-l', LABEL, '-l', `ds01.user=${i % 2 ? 'bob' : 'carol'}`, image, 'true');
const mine = d('create', '-l', LABEL, '-l', 'ds01.user=alice', '-l', 'ds01.managed=true', image, 'sh', '-c', 'echo hello');
d('start', '-a', mine);

function time(envOf, args, bin = real, user = undefined) {
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, args, { env: envOf, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...user });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases = [
  { name: 'version', args: ['version'] },
  { name: `ps -a (${containers} others' containers)`, args: ['ps', '-a'] },
  { name: 'inspect (own)', args: ['inspect', mine] },
  { name: 'logs (own)', args: ['logs', mine] },
  // Creates always go to the wrapper (it allocates GPUs first), which needs the site config: only the wrapper column.
  {
    name: 'run --rm (create, attach, start, wait, remove)',
    args: ['run', '--rm', '-l', LABEL, '--network', 'none', image, 'true'],
    toWrapper: true,
  },
];
const rows = [];
for (const c of cases) {
  const [a, b, l, w] = [[], [], [], []];
  for (let i = 0; i < iterations; i++) {
    a.push(time(direct, c.args));
    b.push(time(viaProxy, c.args));
    if (!alice) continue;
    if (!c.toWrapper) l.push(time(aliceRouted, c.args, launcher, alice));
    w.push(time(aliceWrapped, c.args, launcher, alice));
  }
  const x = median(a);
  const y = median(b);
  const row = { case: c.name, direct_ms: x.toFixed(0), proxy_ms: y.toFixed(0), added_ms: (y - x).toFixed(0), ratio: (y / x).toFixed(2) };
  if (alice) Object.assign(row, { launcher_ms: l.length ? median(l).toFixed(0) : '-', wrapper_ms: median(w).toFixed(0) });
  rows.push(row);
}
console.log(
  `ds01-docker-proxy overhead: median of ${iterations} runs each, real client ${real}, Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
);
console.table(rows);
if (!alice) console.log('(no user alice: the launcher columns are left out)');
else console.log('launcher_ms: `docker` as alice on her socket; wrapper_ms: the same through the wrapper (Node) in front of the proxy');

proxy.kill('SIGTERM');
d('rm', '-f', ...d('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean));
fs.rmSync(dir, { recursive: true, force: true });
if ('stop' in docker) await docker.stop();
