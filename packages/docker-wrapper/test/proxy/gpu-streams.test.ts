import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../../test-support/docker.js';
import { gpuBin, inspectContainer, TEST_LABEL } from '../helpers.js';
import { asUser, dockerAs, PROXY_CONFIG, type ProxyBox, startProxy } from './helpers.js';

const A100_3 = 'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406';

interface Status {
  allocations: { container: string; container_id: string | null; user: string; state: string; gpus: { uuid: string }[] }[];
}

describeDocker('the proxy: GPUs, keep-alive, streams', () => {
  let box: ProxyBox;
  beforeAll(async () => {
    expect(fs.existsSync(gpuBin), `${gpuBin} is missing: build packages/gpu-allocator`).toBe(true);
    box = await startProxy(['alice']);
  });
  afterEach(async () => {
    await removeContainersByLabel(TEST_LABEL);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await box?.stop();
  });

  const status = async (): Promise<Status> => {
    const r = await execa(process.execPath, [gpuBin, 'status', '--json'], { env: box.toolEnv(), extendEnv: false, reject: false });
    return JSON.parse(String(r.stdout)) as Status;
  };

  it('--gpus device=<uuid> from the real client gets the allocated GPU, labelled and bound to the container', async () => {
    const name = uniqueName('alice-gpu');
    const r = await dockerAs(box, 'alice', [
      'run',
      '-d',
      '--name',
      name,
      '-l',
      TEST_LABEL,
      '--network',
      'none',
      '--gpus',
      `device=${A100_3}`,
      testImage,
      'sleep',
      '60',
    ]);
    expect(r.exitCode, `${r.stderr}\n${box.stderr()}`).toBe(0);
    const c = (await inspectContainer(name))!;
    const ids = c.HostConfig.DeviceRequests?.[0]?.DeviceIDs ?? [];
    expect(ids).toHaveLength(1);
    expect(c.Config.Labels['ds01.gpu.uuids']).toBe(ids[0]);
    const alloc = (await status()).allocations.find((a) => a.container === name)!;
    expect(alloc.user).toBe('alice');
    expect(alloc.gpus.map((g) => g.uuid)).toEqual(ids);
    expect(alloc.container_id).toBe(c.Id);
    const ev = box.readEvents().find((e) => e.event_type === 'container.create' && e.details.container === name);
    expect(((ev?.details.gpus ?? []) as { uuid: string }[]).map((g) => g.uuid)).toEqual(ids);
  });

  it('a GPU create the engine refuses releases its reservation; a count above the per-container limit is refused', async () => {
    const name = uniqueName('alice-gpu-fail');
    const r = await dockerAs(box, 'alice', [
      'create',
      '--pull',
      'never',
      '--name',
      name,
      '-l',
      TEST_LABEL,
      '--gpus',
      '1',
      'ds01-test/no-such-image:1',
    ]);
    expect(r.exitCode).not.toBe(0);
    expect((await status()).allocations.some((a) => a.container === name && a.state !== 'revoked')).toBe(false);
    // It was allocated, then given back.
    const gpuEvents = box.readEvents().filter((e) => e.event_type.startsWith('gpu.') && e.details.container === name);
    expect(gpuEvents.map((e) => e.event_type)).toEqual(['gpu.allocate', 'gpu.release']);
    const big = await dockerAs(box, 'alice', ['create', '--name', uniqueName('alice-gpu-big'), '-l', TEST_LABEL, '--gpus', '3', testImage]);
    expect(big.exitCode).not.toBe(0);
    expect(String(big.stderr)).toMatch(/ds01: gpu:[A-Z_]+:/);
  });

  it('keeps the client’s connection alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ socketPath: box.socket('alice'), path: '/v1.41/containers/json', agent }, (res) => {
          reused.push(req.reusedSocket);
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
      });
    }
    agent.destroy();
    expect(reused).toEqual([false, true, true]);
  });

  it('build streams its context up, save streams the image down', async () => {
    const ctxDir = path.join(box.dir, 'build-context');
    fs.mkdirSync(ctxDir, { mode: 0o755 });
    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), `FROM ${testImage}\nCOPY blob /blob\nLABEL ${TEST_LABEL}\n`);
    fs.writeFileSync(path.join(ctxDir, 'blob'), Buffer.alloc(3 * 1024 * 1024, 7));
    const tag = `ds01-test/proxy-build:${uniqueName('t')}`;
    try {
      const build = await asUser(box, 'alice', ['/usr/bin/docker', 'build', '-q', '-t', tag, ctxDir], undefined, { DOCKER_BUILDKIT: '0' });
      expect(build.exitCode, String(build.stderr)).toBe(0);
      const save = await asUser(box, 'alice', ['sh', '-c', `/usr/bin/docker save ${tag} | wc -c`]);
      expect(Number(String(save.stdout).trim())).toBeGreaterThan(3 * 1024 * 1024);
    } finally {
      await dockerAs(box, 'alice', ['image', 'rm', '-f', tag]);
    }
  });

  it('logs -f streams as the container writes', async () => {
    const name = uniqueName('alice-ticks');
    const run = await dockerAs(box, 'alice', [
      'run',
      '-d',
      '--name',
      name,
      '-l',
      TEST_LABEL,
      '--network',
      'none',
      testImage,
      'sh',
      '-c',
      'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done',
    ]);
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const follow = asUser(box, 'alice', ['/usr/bin/docker', 'logs', '-f', name]);
    let out = '';
    follow.stdout?.on('data', (c: Buffer) => {
      out += String(c);
    });
    // Lines written after the request started arrive while it is still open.
    await expect.poll(() => out.includes('tick-8'), { timeout: 20_000, interval: 100 }).toBe(true);
    expect(follow.exitCode).toBeNull();
    follow.kill('SIGTERM');
    await follow;
  });
});

describeDocker('the proxy: start of a GPU container whose GPUs were reclaimed', () => {
  it('is refused (gpu:ALLOCATION_REVOKED) and the container stays stopped', { timeout: 120_000 }, async () => {
    const box = await startProxy(
      ['alice', 'bob', 'carol'],
      PROXY_CONFIG.replace(/user_overrides:\n {2}carol:\n {4}max_containers_per_user: 0\n/, ''),
    );
    try {
      const name = uniqueName('alice-held');
      const run = await dockerAs(box, 'alice', [
        'run',
        '-d',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        '--network',
        'none',
        '--gpus',
        '2',
        testImage,
        'sleep',
        '60',
      ]);
      expect(run.exitCode, String(run.stderr)).toBe(0);
      expect((await dockerAs(box, 'alice', ['stop', '-t', '0', name])).exitCode).toBe(0);
      // gpu_hold_after_stop_h: 0, so bob and carol may take all four GPUs, alice's included.
      for (const user of ['bob', 'carol']) {
        const r = await dockerAs(box, user, [
          'run',
          '-d',
          '--name',
          uniqueName(user),
          '-l',
          TEST_LABEL,
          '--network',
          'none',
          '--gpus',
          '2',
          testImage,
          'sleep',
          '60',
        ]);
        expect(r.exitCode, String(r.stderr)).toBe(0);
      }
      const start = await dockerAs(box, 'alice', ['start', name]);
      expect(start.exitCode).not.toBe(0);
      expect(String(start.stderr)).toContain('ds01: gpu:ALLOCATION_REVOKED:');
      expect((await inspectContainer(name))!.State.Running).toBe(false);
    } finally {
      await removeContainersByLabel(TEST_LABEL);
      await box.stop();
    }
  });
});

describeDocker('the proxy: users from the config, rescanned on SIGHUP', () => {
  it('members of the config groups and of docker_proxy.users_group get sockets; SIGHUP adds and removes', async () => {
    const config = (members: string) =>
      `${PROXY_CONFIG.replace('members: [alice, bob]', `members: [${members}]`)}docker_proxy:\n  socket_dir: {{SOCKETS}}\n  users_group: ds01-admin\n`;
    const box = await startProxy(null, config('alice'));
    try {
      expect(fs.existsSync(box.socket('alice'))).toBe(true);
      expect(fs.existsSync(box.socket('dana'))).toBe(true);
      expect(fs.existsSync(box.socket('bob'))).toBe(false);
      fs.writeFileSync(box.config, config('bob').replaceAll('{{SOCKETS}}', box.socketDir));
      box.proxy.kill('SIGHUP');
      await expect.poll(() => fs.existsSync(box.socket('bob')), { timeout: 10_000, interval: 50 }).toBe(true);
      await expect.poll(() => fs.existsSync(box.socket('alice')), { timeout: 10_000, interval: 50 }).toBe(false);
      const ping = await dockerAs(box, 'bob', ['version', '--format', '{{.Server.APIVersion}}']);
      expect(ping.exitCode, String(ping.stderr)).toBe(0);
    } finally {
      await box.stop();
    }
  });
});
