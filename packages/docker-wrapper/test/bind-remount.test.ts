import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { attempt, BASE_CONFIG, inspectContainer, makeSandbox, type Sandbox, TEST_LABEL, wrapper } from './helpers.js';
import { dockerAs, PROXY_CONFIG, type ProxyBox, startProxy } from './proxy/helpers.js';

// The engine resolves a bind mount's host path at every start and follows links (src/rules/bind-remount.ts):
// a directory checked at create and replaced by a link to /etc afterwards would hand /etc to the next start.

/** A test user's home directory, from the password database. */
const homeOf = (user: string): string => execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5]!;

const aliceIds = (): [number, number] => {
  const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, 'alice'], { encoding: 'utf8' })));
  return [uid!, gid!];
};

/** A directory of alice's with `x/` in it, and a way to turn `x` into a link to /etc and back. */
function aliceData(): { dir: string; x: string; toEtc(): void; toDir(): void; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-remount-'));
  fs.chmodSync(dir, 0o755);
  const x = path.join(dir, 'x');
  fs.mkdirSync(x);
  fs.chownSync(dir, ...aliceIds());
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

/** The site lets users mount their home directory and one shared tree, nothing else. */
const allowList = (config: string, shared: string) =>
  config.replace('access_control:\n', `access_control:\n  wrapper:\n    allowed_bind_mounts: ['{home}', ${shared}]\n`);

describeDocker('allowed_bind_mounts: only the listed host paths, links followed (the wrapper, acting for alice)', () => {
  let box: Sandbox;
  let shared: string;
  let project: string;
  beforeAll(() => {
    shared = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-shared-'));
    box = makeSandbox(allowList(BASE_CONFIG, shared));
    project = fs.mkdtempSync(path.join(homeOf('alice'), 'ds01-project-'));
    fs.chownSync(project, ...aliceIds());
    fs.symlinkSync(homeOf('bob'), path.join(project, 'to-bob'));
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    for (const d of [shared, project]) fs.rmSync(d, { recursive: true, force: true });
    box?.cleanup();
  });

  it('her home, what lies in it, and the shared tree pass; anything else, or a link out of them, is refused', async () => {
    for (const ok of [homeOf('alice'), project, `${shared}/data`]) {
      const name = uniqueName('allowed');
      const r = await wrapper(['create', '--name', name, '-l', TEST_LABEL, '-v', `${ok}:/w`, testImage, 'true'], box.env('alice'));
      expect(r.exitCode, `${ok}: ${r.stderr}`).toBe(0);
      expect((await inspectContainer(name))?.HostConfig.Binds).toEqual([`${ok}:/w`]);
    }
    for (const no of [homeOf('bob'), `${homeOf('alice')}-other`, '/tmp', path.join(project, 'to-bob'), path.dirname(shared)]) {
      for (const mount of [
        ['-v', `${no}:/w`],
        ['--mount', `type=bind,source=${no},target=/w`],
      ]) {
        const name = uniqueName('outside');
        const r = await attempt(['create', '--name', name, '-l', TEST_LABEL, ...mount, testImage, 'true'], box.env('alice'));
        expect(r.exitCode, no).toBe(1);
        expect(r.stderr).toContain('refused (bind-mount)');
        expect(r.stderr).toContain(`is outside the host paths you may mount (${homeOf('alice')}, ${shared})`);
        expect(await inspectContainer(name)).toBeNull();
      }
    }
    // Administrators are not held to it.
    const admin = uniqueName('admin-bind');
    const r = await wrapper(['create', '--name', admin, '-l', TEST_LABEL, '-v', '/tmp:/w', testImage, 'true'], box.env(null));
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });

  it('a directory in her home replaced by a link out of it after the create: start is refused', async () => {
    const dir = path.join(project, 'work');
    fs.mkdirSync(dir);
    const name = uniqueName('allowed-then-out');
    const c = await wrapper(['create', '--name', name, '-l', TEST_LABEL, '-v', `${dir}:/w`, testImage, 'true'], box.env('alice'));
    expect(c.exitCode, String(c.stderr)).toBe(0);
    fs.rmdirSync(dir);
    fs.symlinkSync('/home/bob', dir);
    const r = await wrapper(['start', name], box.env('alice'));
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain(`binds ${dir}, which now is outside the host paths you may mount`);
    expect((await inspectContainer(name))?.State.Status).toBe('created');
  });
});

describeDocker('allowed_bind_mounts through the proxy (as the real user alice)', () => {
  let box: ProxyBox;
  let shared: string;
  beforeAll(async () => {
    shared = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-shared-'));
    fs.chmodSync(shared, 0o755);
    box = await startProxy(['alice'], allowList(PROXY_CONFIG, shared));
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    fs.rmSync(shared, { recursive: true, force: true });
    await box?.stop();
  });

  it('the shared tree passes; another user’s home is refused and nothing is created', async () => {
    const ok = uniqueName('px-allowed');
    const r = await dockerAs(box, 'alice', ['create', '--name', ok, '-l', TEST_LABEL, '-v', `${shared}:/w`, testImage, 'true']);
    expect(r.exitCode, `${r.stderr}\n${box.stderr()}`).toBe(0);
    const no = uniqueName('px-outside');
    const refused = await dockerAs(box, 'alice', ['create', '--name', no, '-l', TEST_LABEL, '-v', '/home/bob:/w', testImage, 'true']);
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toContain(
      'ds01: bind-mount: Binds /home/bob:/w mounts /home/bob, which is outside the host paths you may mount',
    );
    expect(await inspectContainer(no)).toBeNull();
  });
});
