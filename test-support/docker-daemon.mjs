// Docker for the test suite: use the daemon named by DOCKER_HOST, or start a
// private, throw-away dockerd (root + Debian's docker.io), and make sure the
// test image `ds01-test/busybox:latest` exists there, built from the host's
// static busybox (no registry is ever contacted).
//
// Plain ESM, node builtins only: run-tests.mjs imports it before anything is
// built or installed beyond node_modules.
//
//   const docker = await ensureDocker({ log });
//   if ('unavailable' in docker) ... docker.unavailable is the reason
//   else { docker.dockerHost; docker.image; docker.private; await docker.stop(); }

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export const TEST_IMAGE_REPO = 'ds01-test/busybox';
export const TEST_IMAGE_TAG = 'latest';
export const TEST_IMAGE = `${TEST_IMAGE_REPO}:${TEST_IMAGE_TAG}`;

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const defaultLog = (msg) => process.stderr.write(`[ds01-docker] ${msg}\n`);

/**
 * @param {{ log?: (msg: string) => void }} [options]
 * @returns {Promise<{ dockerHost: string, image: string, stop: () => Promise<void>, private: boolean } | { unavailable: string }>}
 */
export async function ensureDocker({ log = defaultLog } = {}) {
  const reasons = [];

  // 1. A daemon the caller already points at. Never stopped by us.
  const envHost = process.env.DOCKER_HOST;
  if (envHost) {
    const target = parseDockerHost(envHost);
    if (!target) {
      reasons.push(`DOCKER_HOST=${envHost} is not a unix:// or tcp:// address`);
    } else if (await ping(target)) {
      const imageError = await ensureTestImage(target, log);
      if (imageError) return { unavailable: `test image on DOCKER_HOST=${envHost}: ${imageError}` };
      log(`using the Docker daemon at DOCKER_HOST=${envHost}`);
      return { dockerHost: envHost, image: TEST_IMAGE, stop: async () => {}, private: false };
    } else {
      reasons.push(`DOCKER_HOST=${envHost} does not answer GET /_ping`);
      log(`DOCKER_HOST=${envHost} does not answer; trying a private dockerd`);
    }
  }

  // 2. A private daemon of our own.
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    reasons.push('not running as root, so no private dockerd can be started');
    return { unavailable: reasons.join('; ') };
  }
  const dockerd = findOnPath('dockerd');
  if (!dockerd) {
    reasons.push('dockerd is not installed (apt-get install docker.io)');
    return { unavailable: reasons.join('; ') };
  }
  const started = await startPrivateDaemon(dockerd, log);
  if ('unavailable' in started) {
    reasons.push(started.unavailable);
    return { unavailable: reasons.join('; ') };
  }
  const imageError = await ensureTestImage(started.target, log);
  if (imageError) {
    await started.stop();
    reasons.push(`test image: ${imageError}`);
    return { unavailable: reasons.join('; ') };
  }
  return { dockerHost: started.dockerHost, image: TEST_IMAGE, stop: started.stop, private: true };
}

// ---------------------------------------------------------------------------
// Engine API over node:http

/** @param {string} host */
export function parseDockerHost(host) {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return socketPath ? { socketPath } : null;
  }
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    try {
      const url = new URL(host.replace(/^tcp:/, 'http:'));
      return { host: url.hostname, port: Number(url.port || 2375) };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * @param {{socketPath?: string, host?: string, port?: number}} target
 * @param {string} method
 * @param {string} apiPath
 * @param {{ body?: string | import('node:stream').Readable, headers?: Record<string,string>, timeoutMs?: number }} [opts]
 * @returns {Promise<{ status: number, text: string }>}
 */
export function dockerRequest(target, method, apiPath, opts = {}) {
  const { body, headers = {}, timeoutMs = 30_000 } = opts;
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, method, path: apiPath, headers: { Host: 'docker', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${apiPath}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

async function ping(target, timeoutMs = 2_000) {
  try {
    const res = await dockerRequest(target, 'GET', '/_ping', { timeoutMs });
    return res.status === 200 && res.text.trim() === 'OK';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Private daemon

function findOnPath(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return null;
}

// Runs detached, outside our process group: when the process that started the
// daemon dies without calling stop() (crash, SIGKILL, CI timeout), it stops
// the daemon and removes its directory. Arguments: parent pid, dockerd pid, dir.
const WATCHDOG = `
P=$1; D=$2; T=$3
while kill -0 "$P" 2>/dev/null; do sleep 1; done
kill -TERM "$D" 2>/dev/null
i=0; while kill -0 "$D" 2>/dev/null && [ "$i" -lt ${STOP_TIMEOUT_MS / 1000} ]; do sleep 1; i=$((i+1)); done
kill -9 -"$D" 2>/dev/null
for d in /proc/[0-9]*; do
  p=\${d#/proc/}; [ "$p" = "$$" ] && continue
  if tr '\\0' ' ' < "$d/cmdline" 2>/dev/null | grep -qF "$T/"; then kill -9 "$p" 2>/dev/null; fi
done
sleep 1
awk -v t="$T" '$5 == t || index($5, t "/") == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
rm -rf "$T"
`;

async function startPrivateDaemon(dockerd, log) {
  // Short path: the daemon's unix socket path must stay under 108 bytes.
  const dir = await mkdtemp('/tmp/ds01d-');
  const sock = path.join(dir, 'docker.sock');
  const hookbin = path.join(dir, 'hookbin');
  const logFile = path.join(dir, 'dockerd.log');
  await mkdir(hookbin);
  // With this stand-in first on its PATH, dockerd registers the nvidia device
  // driver and accepts --gpus / DeviceRequests as on a GPU host (it puts
  // NVIDIA_VISIBLE_DEVICES in the container's env; the hook does nothing).
  await writeFile(path.join(hookbin, 'nvidia-container-runtime-hook'), '#!/bin/sh\ncat >/dev/null\nexit 0\n', { mode: 0o755 });
  // An empty config file keeps a host /etc/docker/daemon.json out of it.
  await writeFile(path.join(dir, 'daemon.json'), '{}\n');

  const args = [
    '--host',
    `unix://${sock}`,
    '--data-root',
    path.join(dir, 'root'),
    '--exec-root',
    path.join(dir, 'exec'),
    '--pidfile',
    path.join(dir, 'docker.pid'),
    '--config-file',
    path.join(dir, 'daemon.json'),
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
  ];
  const env = { ...process.env, PATH: `${hookbin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  delete env.DOCKER_HOST;
  const logFd = openSync(logFile, 'a');
  let child;
  try {
    // detached: its own session and process group, so it can be signalled as
    // a group and a Ctrl-C in the terminal does not reach it directly.
    child = spawn(dockerd, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      exited = { code: null, signal: null, error: err };
      resolve(exited);
    });
  });
  const pid = child.pid;
  log(`starting a private dockerd (pid ${pid ?? '?'}) in ${dir}`);

  let watchdog = null;
  if (pid) {
    watchdog = spawn('sh', ['-c', WATCHDOG, 'ds01-dockerd-watchdog', String(process.pid), String(pid), dir], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.unref();
  }

  const target = { socketPath: sock };
  let stopPromise = null;
  const stop = () => {
    stopPromise ??= stopPrivateDaemon({ pid, dir, target, watchdog, exitPromise, isExited: () => exited !== null, log });
    return stopPromise;
  };
  // Last resort if the caller exits without stop(): ask dockerd to shut down
  // now; the watchdog finishes the clean-up once this process is gone.
  const onExit = () => {
    if (!stopPromise && pid && exited === null) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
  };
  process.once('exit', onExit);

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) break;
    if (await ping(target, 1_000)) {
      log(`private dockerd is up at unix://${sock}`);
      return { dockerHost: `unix://${sock}`, target, stop };
    }
    await sleep(250);
  }
  const why =
    exited !== null
      ? `exited during start-up (${exited.error ? exited.error.message : `code ${exited.code}, signal ${exited.signal}`})`
      : `did not answer /_ping within ${START_TIMEOUT_MS / 1000} s`;
  const tail = logTail(logFile, 15);
  await stop();
  return { unavailable: `private dockerd ${why}; last lines of its log:\n${tail}` };
}

function logTail(file, lines) {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return (
      text
        .split('\n')
        .slice(-lines)
        .map((l) => `    ${l}`)
        .join('\n') || '    (empty)'
    );
  } catch (err) {
    return `    (log unreadable: ${err.message})`;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Processes (other than us) whose command line mentions a path under dir:
 *  the daemon's own containerd and its shims. */
function processesUnder(dir) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(`${dir}/`)) found.push(pid);
    } catch {}
  }
  return found;
}

function mountsUnder(dir) {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((mp) => mp && (mp === dir || mp.startsWith(`${dir}/`)))
      .map((mp) => mp.replace(/\\(\d{3})/g, (_, oct) => String.fromCharCode(Number.parseInt(oct, 8))))
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

async function stopPrivateDaemon({ pid, dir, target, watchdog, exitPromise, isExited, log }) {
  // We are cleaning up ourselves; the watchdog is no longer needed.
  if (watchdog?.pid) {
    try {
      process.kill(watchdog.pid, 'SIGKILL');
    } catch {}
  }
  if (pid && !isExited()) {
    // Remove every container first, so nothing outlives the daemon.
    try {
      const res = await dockerRequest(target, 'GET', '/containers/json?all=1', { timeoutMs: 10_000 });
      if (res.status === 200) {
        for (const c of JSON.parse(res.text)) {
          await dockerRequest(target, 'DELETE', `/containers/${c.Id}?force=1&v=1`, { timeoutMs: 30_000 }).catch(() => {});
        }
      }
    } catch {}
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
    await Promise.race([exitPromise, sleep(STOP_TIMEOUT_MS)]);
    if (!isExited()) log(`dockerd (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
  }
  if (pid) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  // Its containerd and shims run in sessions of their own.
  let leftovers = processesUnder(dir);
  for (const p of leftovers) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  for (let i = 0; i < 50 && leftovers.some(alive); i++) await sleep(100);
  leftovers = leftovers.filter(alive);
  if (leftovers.length) log(`processes still alive after SIGKILL: ${leftovers.join(', ')}`);

  for (const mp of mountsUnder(dir)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    try {
      await rm(dir, { recursive: true, force: true });
      break;
    } catch (err) {
      if (attempt >= 5) {
        log(`could not remove ${dir}: ${err.message}`);
        break;
      }
      for (const mp of mountsUnder(dir)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
      await sleep(500);
    }
  }
  log('private dockerd stopped and removed');
}

// ---------------------------------------------------------------------------
// Test image

async function imageExists(target) {
  const res = await dockerRequest(target, 'GET', `/images/${TEST_IMAGE}/json`);
  return res.status === 200;
}

/** Returns null when the image is there (or was imported), else why not. */
async function ensureTestImage(target, log) {
  try {
    if (await imageExists(target)) return null;
  } catch (err) {
    return `cannot inspect images: ${err.message}`;
  }
  const busybox = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (!busybox) return 'no busybox binary at /bin/busybox (apt-get install busybox-static)';
  const linkage = elfLinkage(busybox);
  if (linkage !== 'static') {
    return `${busybox} is ${linkage === 'dynamic' ? 'dynamically linked' : 'not a readable ELF binary'}; the test image needs busybox-static (apt-get install busybox-static)`;
  }
  const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (list.status !== 0) return `${busybox} --list failed: ${list.stderr}`;
  const applets = list.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && !s.includes('/'));

  log(`importing ${TEST_IMAGE} from ${busybox} (${applets.length} applets)`);
  const work = await mkdtemp('/tmp/ds01-rootfs-');
  try {
    const rootfs = path.join(work, 'rootfs');
    for (const d of ['bin', 'tmp', 'etc', 'workspace', 'proc', 'sys', 'dev', 'root']) {
      await mkdir(path.join(rootfs, d), { recursive: true });
    }
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
    await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of applets) await symlink('busybox', path.join(rootfs, 'bin', applet));
    await writeFile(
      path.join(rootfs, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
    await writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');

    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErr = '';
    tar.stderr.on('data', (c) => {
      tarErr += c;
    });
    const tarDone = new Promise((resolve) => tar.on('close', (code) => resolve(code)));
    const changes = ['ENV PATH=/bin', 'CMD ["/bin/sh"]'].map((c) => `changes=${encodeURIComponent(c)}`).join('&');
    const res = await dockerRequest(
      target,
      'POST',
      `/images/create?fromSrc=-&repo=${encodeURIComponent(TEST_IMAGE_REPO)}&tag=${TEST_IMAGE_TAG}&${changes}`,
      { body: tar.stdout, headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 },
    );
    const tarCode = await tarDone;
    if (tarCode !== 0) return `tar of the rootfs failed (${tarCode}): ${tarErr.trim()}`;
    if (res.status !== 200) return `import answered ${res.status}: ${res.text.trim()}`;
    // The answer is a stream of JSON messages; an error arrives as one of them.
    for (const line of res.text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const msg = JSON.parse(line);
        if (msg.error) return `import failed: ${msg.error}`;
      } catch {}
    }
    if (!(await imageExists(target))) return 'import reported success but the image is not there';
    return null;
  } catch (err) {
    return `import failed: ${err.message}`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** 'static' | 'dynamic' | 'unknown': an ELF file is dynamic iff it has a
 *  PT_INTERP program header. */
export function elfLinkage(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return 'unknown';
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(0x20) : head.readBigUInt64BE(0x20)) : u32(head, 0x1c);
    const phentsize = u16(head, is64 ? 0x36 : 0x2a);
    const phnum = u16(head, is64 ? 0x38 : 0x2c);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (u32(table, i * phentsize) === 3 /* PT_INTERP */) return 'dynamic';
    }
    return 'static';
  } catch {
    return 'unknown';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
