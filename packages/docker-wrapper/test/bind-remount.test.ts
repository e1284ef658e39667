import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { inspectContainer, makeSandbox, type Sandbox, TEST_LABEL, wrapper } from './helpers.js';
import { dockerAs, type ProxyBox, startProxy } from './proxy/helpers.js';

// The engine resolves a bind mount's host path at every start and follows links (src/rules/bind-remount.ts):
// a directory checked at create and replaced by a link to /etc afterwards would hand /etc to the next start.

/** A directory of alice's with `x/` in it, and a way to turn `x` into a link to /etc and back. */
function aliceData(): { dir: string; x: string; toEtc(): void; toDir(): void; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-remount-'));
  fs.chmodSync(dir, 0o755);
  const x = path.join(dir, 'x');
  fs.mkdirSync(x);
  fs.chownSync(dir, 1001, 1001);
  return {
    dir,
    x,
    toEtc() {
      fs.rmSync(x, { recursive: true, force: true });
      fs.symlinkSync('/etc', x);
    },
    toDir() {
      fs.rmSync(x, { recursive: true, force: true });
      fs.mkdirSync(x);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

const restartPolicy = async (name: string) =>
  ((await inspectContainer(name)) as unknown as { HostConfig: { RestartPolicy?: { Name?: string } } }).HostConfig.RestartPolicy?.Name ?? '';

describeDocker('bind mounts are checked again at every start (the wrapper, acting for alice)', () => {
  let box: Sandbox;
  let data: ReturnType<typeof aliceData>;
  let name: string;
  beforeAll(async () => {
    box = makeSandbox();
    data = aliceData();
    name = uniqueName('remount');
    const r = await wrapper(
      ['create', '--name', name, '-l', TEST_LABEL, '--network', 'none', '-v', `${data.x}:/h`, testImage, 'ls', '/h'],
      box.env('alice'),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    data?.cleanup();
    box?.cleanup();
  });

  it('a bind source turned into a link to /etc after the create: start, restart and cp are refused and nothing runs', async () => {
    data.toEtc();
    for (const verb of [['start', '-a'], ['restart'], ['container', 'start']]) {
      const r = await wrapper([...verb, name], box.env('alice'));
      expect(r.exitCode, verb.join(' ')).toBe(1);
      expect(String(r.stderr)).toContain('refused (bind-mount)');
      expect(String(r.stderr)).toContain(`binds ${data.x}, which now exposes /etc`);
      expect((await inspectContainer(name))?.State.Status).toBe('created');
    }
    // docker cp mounts a stopped container's volumes on the host: reading /etc/hostname, or writing into /etc, through the link.
    const planted = path.join(box.dir, 'planted');
    fs.writeFileSync(planted, 'x');
    for (const args of [
      ['cp', `${name}:/h/hostname`, '-'],
      ['cp', planted, `${name}:/h/`],
      ['container', 'cp', `${name}:/h/.`, box.dir],
    ]) {
      const r = await wrapper(args, box.env('alice'));
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(String(r.stderr)).toContain('refused (bind-mount)');
      expect(String(r.stdout)).toBe('');
    }
    expect(fs.existsSync('/etc/planted')).toBe(false);
    const denied = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.details.rule === 'bind-mount');
    expect(denied.map((e) => [e.user, e.details.target])).toContainEqual(['alice', name]);
    // The same directory back in place: the container starts.
    data.toDir();
    const ok = await wrapper(['start', '-a', name], box.env('alice'));
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
  });

  it('binds taken from another container with --volumes-from are checked at start too; no restart policy with them', async () => {
    const taker = uniqueName('remount-from');
    const c = await wrapper(
      ['create', '--name', taker, '-l', TEST_LABEL, '--network', 'none', '--volumes-from', name, testImage, 'ls', '/h'],
      box.env('alice'),
    );
    expect(c.exitCode, String(c.stderr)).toBe(0);
    data.toEtc();
    try {
      const r = await wrapper(['start', '-a', taker], box.env('alice'));
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain(`binds ${data.x}, which now exposes /etc`);
      expect((await inspectContainer(taker))?.State.Status).toBe('created');
      const up = await wrapper(['update', '--restart', 'always', taker], box.env('alice'));
      expect(String(up.stderr)).toContain('refused (bind-mount)');
    } finally {
      data.toDir();
    }
    const policy = uniqueName('remount-from-policy');
    const p = await wrapper(
      ['create', '--name', policy, '-l', TEST_LABEL, '--restart', 'always', '--volumes-from', name, testImage, 'true'],
      box.env('alice'),
    );
    expect(p.exitCode).toBe(1);
    expect(String(p.stderr)).toContain(
      `refused (bind-mount): a restart policy (always) on a container with host paths mounted (--volumes-from ${name})`,
    );
    expect(await inspectContainer(policy)).toBeNull();
  });

  it('a restart policy, with which the engine would mount again by itself, is refused on a container with bind mounts', async () => {
    const fresh = uniqueName('remount-policy');
    for (const policy of [['--restart', 'unless-stopped'], ['--restart=always'], ['--restart', 'on-failure:3']]) {
      const r = await wrapper(
        ['run', '-d', '--name', fresh, '-l', TEST_LABEL, ...policy, '-v', `${data.x}:/h`, testImage, 'true'],
        box.env('alice'),
      );
      expect(r.exitCode, policy.join(' ')).toBe(1);
      expect(String(r.stderr)).toContain('refused (bind-mount)');
      expect(await inspectContainer(fresh)).toBeNull();
    }
    const up = await wrapper(['update', '--restart', 'always', name], box.env('alice'));
    expect(up.exitCode).toBe(1);
    expect(String(up.stderr)).toContain('refused (bind-mount)');
    expect(await restartPolicy(name)).toBe('no');
    // Without a bind mount, or with --restart no, nothing is refused.
    const plain = uniqueName('remount-plain');
    const r = await wrapper(['create', '--name', plain, '-l', TEST_LABEL, '--restart', 'always', testImage, 'true'], box.env('alice'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await restartPolicy(plain)).toBe('always');
    const no = await wrapper(['update', '--restart', 'no', name], box.env('alice'));
    expect(no.exitCode, String(no.stderr)).toBe(0);
  });

  it('admins are not held to it', async () => {
    data.toEtc();
    try {
      const r = await wrapper(['update', '--restart', 'on-failure', name], box.env(null));
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(await restartPolicy(name)).toBe('on-failure');
    } finally {
      data.toDir();
    }
  });
});

describeDocker('bind mounts are checked again at every start (the proxy, as the real user alice)', () => {
  let box: ProxyBox;
  let data: ReturnType<typeof aliceData>;
  beforeAll(async () => {
    box = await startProxy(['alice']);
    data = aliceData();
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    data?.cleanup();
    await box?.stop();
  });

  describe('through her socket', () => {
    it('start after the source became a link to /etc: refused, and the container stays created', async () => {
      const name = uniqueName('px-remount');
      const c = await dockerAs(box, 'alice', [
        'create',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        '--network',
        'none',
        '-v',
        `${data.x}:/h`,
        testImage,
        'ls',
        '/h',
      ]);
      expect(c.exitCode, `${c.stderr}\n${box.stderr()}`).toBe(0);
      data.toEtc();
      try {
        for (const verb of ['start', 'restart']) {
          const r = await dockerAs(box, 'alice', [verb, name]);
          expect(r.exitCode, verb).toBe(1);
          expect(String(r.stderr)).toMatch(/ds01: bind-mount: .*which now exposes \/etc/);
          expect((await inspectContainer(name))?.State.Status).toBe('created');
        }
        const cp = await dockerAs(box, 'alice', ['cp', `${name}:/h/hostname`, '-']);
        expect(cp.exitCode).toBe(1);
        expect(String(cp.stderr)).toContain('ds01: bind-mount');
        expect(String(cp.stdout)).toBe('');
        const up = await dockerAs(box, 'alice', ['update', '--restart', 'always', name]);
        expect(up.exitCode).toBe(1);
        expect(String(up.stderr)).toContain('ds01: bind-mount');
        expect(await restartPolicy(name)).toBe('no');
      } finally {
        data.toDir();
      }
      const ok = await dockerAs(box, 'alice', ['start', '-a', name]);
      expect(ok.exitCode, String(ok.stderr)).toBe(0);
    });

    it('create with a restart policy and a bind mount: refused, nothing created', async () => {
      const name = uniqueName('px-remount-policy');
      for (const mount of [
        ['-v', `${data.x}:/h`],
        ['--mount', `type=bind,source=${data.x},target=/h`],
      ]) {
        const r = await dockerAs(box, 'alice', [
          'run',
          '-d',
          '--name',
          name,
          '-l',
          TEST_LABEL,
          '--restart',
          'unless-stopped',
          ...mount,
          testImage,
          'true',
        ]);
        // docker run's own status for a create the daemon refused.
        expect(r.exitCode).toBe(125);
        expect(String(r.stderr)).toContain('ds01: bind-mount');
        expect(await inspectContainer(name)).toBeNull();
      }
      // Another container's volumes may bind host paths: no restart policy with --volumes-from either.
      const source = uniqueName('px-remount-source');
      const c = await dockerAs(box, 'alice', ['create', '--name', source, '-l', TEST_LABEL, '-v', `${data.x}:/h`, testImage, 'true']);
      expect(c.exitCode, String(c.stderr)).toBe(0);
      const r = await dockerAs(box, 'alice', [
        'create',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        '--restart',
        'always',
        '--volumes-from',
        source,
        testImage,
        'true',
      ]);
      expect(String(r.stderr)).toContain(`--volumes-from ${source}`);
      expect(await inspectContainer(name)).toBeNull();
    });
  });
});
