// Where tools/bundle-bins.mjs runs a bin's warm-up commands: a temp dir with
// its own site config, state dir and event log, the nvidia-smi stand-in, a
// Docker Engine that holds no containers (a small HTTP server on a unix
// socket) and a "real" docker client that does nothing. Every path a ds01 tool
// reads is pointed inside it, so a build on a live server touches nothing of
// the site's.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * A stopped container of the warm-up user `nobody`, the one thing this engine
 * knows by name: a warm-up `inspect ds01-warm-up-own` then runs the checked
 * path a real command runs (found, owned, allowed), not only "no such".
 */
const OWN_CONTAINER = {
  Id: 'f00d'.repeat(16),
  Name: '/ds01-warm-up-own',
  Image: 'sha256:'.padEnd(71, '0'),
  Created: '2026-01-01T00:00:00Z',
  State: { Status: 'exited', Running: false, Paused: false, Restarting: false, ExitCode: 0, StartedAt: '2026-01-01T00:00:00Z' },
  Config: { Image: 'ds01-warm-up-image', Labels: { 'ds01.user': 'nobody', 'ds01.managed': 'true', 'ds01.container_type': 'docker' } },
  HostConfig: { Memory: 0, NanoCpus: 0, DeviceRequests: null },
};

/** Answers as an engine with no images and one stopped container (OWN_CONTAINER); anything else named is "no such". */
function sandboxEngine(req, res) {
  const url = new URL(req.url ?? '/', 'http://engine');
  const p = url.pathname.replace(/^\/v\d+\.\d+/, '');
  const json = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
    res.end(JSON.stringify(body));
  };
  req.resume();
  if (p === '/_ping') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Api-Version': '1.43' });
    res.end('OK');
  } else if (p === '/version') json(200, { ApiVersion: '1.43', Version: '24.0.0', Os: 'linux', Arch: 'amd64' });
  else if (req.method === 'GET' && /^\/containers\/(ds01-warm-up-own|f00d[0-9a-f]*)\/json$/.test(p)) json(200, OWN_CONTAINER);
  else if (req.method === 'GET' && /^\/(containers|images|networks|volumes)\/json$/.test(p)) json(200, []);
  else json(404, { message: `No such object: ${p}` });
}

function siteConfig(dir) {
  return `defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 2
  allow_full_gpu: true
  max_containers_per_user: 5
  memory: 64g
  gpu_hold_after_stop_h: 0.25
  idle_timeout_h: 2
  max_runtime_h: 48
default_group: student
groups:
  student: { members: [], max_gpu_equivalents: 1 }
  researcher: { members: [], max_gpu_equivalents: 2 }
gpu_allocation:
  wait_max_s: 5
access_control:
  admin_group: ds01-warm-up-admins
docker_proxy:
  socket_dir: ${path.join(dir, 'proxy')}
`;
}

/** Runs `fn(env)` with the sandbox up; removes it afterwards. */
export async function withWarmUpSandbox(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-warm-up-'));
  const socket = path.join(dir, 'engine.sock');
  const server = http.createServer(sandboxEngine);
  await new Promise((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  fs.writeFileSync(path.join(dir, 'resource-limits.yaml'), siteConfig(dir));
  const env = { ...process.env };
  // The build's own user (under sudo too: SUDO_USER would make the tools act as the invoking user, who may
  // not allocate for root), and no site path from the calling shell.
  for (const k of Object.keys(env)) if ((k.startsWith('DS01_') && k !== 'DS01_CODE_CACHE_REPORT') || k.startsWith('SUDO_')) delete env[k];
  Object.assign(env, {
    NO_COLOR: '1',
    DOCKER_HOST: `unix://${socket}`,
    DS01_CONFIG: path.join(dir, 'resource-limits.yaml'),
    DS01_STATE_DIR: path.join(dir, 'state'),
    DS01_EVENTS_FILE: path.join(dir, 'events.jsonl'),
    DS01_NVIDIA_SMI: path.join(root, 'test-support/bin/nvidia-smi'),
    DS01_FAKE_GPUS: 'a100x4',
    DS01_REAL_DOCKER: '/bin/true',
    // Nothing here reaches the site's allocator.
    DS01_GPU_BIN: '/bin/false',
  });
  try {
    return await fn(env, { user: os.userInfo().username, dir });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
