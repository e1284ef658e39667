import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerHost, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import {
  expectTtyProbe,
  inPseudoTerminal,
  inspectContainer,
  makeSandbox,
  realDocker,
  type Sandbox,
  shareDockerSocket,
  TEST_LABEL,
  TTY_PROBE,
  wrapper,
  wrapperBin,
} from './helpers.js';

describe('the real client', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = makeSandbox();
  });
  afterAll(() => box.cleanup());

  it('refuses to run itself as the real client (a loop), naming the setting', async () => {
    const launcher = path.join(box.dir, 'docker');
    fs.writeFileSync(launcher, `#!/bin/sh\n# ds01-docker-wrapper launcher\nexec node ${wrapperBin} "$@"\n`, { mode: 0o755 });
    for (const real of [launcher, wrapperBin]) {
      const r = await wrapper(['ps'], box.env('alice', { DS01_REAL_DOCKER: real }));
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toMatch(/DS01_REAL_DOCKER/);
    }
  });

  it('ends the way the real client ended: its exit code, or its signal', async () => {
    const fake = path.join(box.dir, 'fake-docker');
    fs.writeFileSync(fake, '#!/bin/sh\ncase "$1" in version) exit 42 ;; *) kill -TERM $$ ;; esac\n', { mode: 0o755 });
    const code = await wrapper(['version'], box.env('alice', { DS01_REAL_DOCKER: fake }));
    expect(code.exitCode).toBe(42);
    const sig = await wrapper(['info'], box.env('alice', { DS01_REAL_DOCKER: fake }));
    expect(sig.signal).toBe('SIGTERM');
  });

  it('the generated launcher sends pass-through verbs straight to the real client and the rest to the wrapper', async () => {
    const { renderLauncher } = await import('../src/index.js');
    const log = path.join(box.dir, 'calls');
    const fakeReal = path.join(box.dir, 'real');
    const fakeNode = path.join(box.dir, 'node');
    fs.writeFileSync(fakeReal, `#!/bin/sh\necho "real $*" >> ${log}\n`, { mode: 0o755 });
    // A wrapper asked for a hand-off (hand-off.ts) answers on fd 3: here, that it ended with 0.
    fs.writeFileSync(
      fakeNode,
      `#!/bin/sh\nif [ -n "$DS01_HANDOFF_FD" ]; then echo "wrapper, hand-off $*" >> ${log}; echo 'exit 0' >&3; else echo "wrapper $*" >> ${log}; fi\n`,
      { mode: 0o755 },
    );
    const launcher = path.join(box.dir, 'launcher');
    fs.writeFileSync(launcher, renderLauncher({ realDocker: fakeReal, node: fakeNode, wrapper: '/w.js' }), { mode: 0o755 });
    for (const args of [
      ['images'],
      ['version'],
      ['ps'],
      ['run', 'x'],
      ['-H', 'x', 'images'],
      ['container', 'ls'],
      ['container', 'run', 'x'],
    ])
      await execa(launcher, args);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'real images',
      'real version',
      'wrapper, hand-off /w.js ps',
      'wrapper /w.js run x',
      'wrapper /w.js -H x images',
      'wrapper, hand-off /w.js container ls',
      'wrapper /w.js container run x',
    ]);
  });
  it('the launcher starts Node without NODE_EXTRA_CA_CERTS, set aside for the wrapper to hand back; pass-through keeps it', async () => {
    const { renderLauncher } = await import('../src/index.js');
    const log = path.join(box.dir, 'ca-calls');
    const record = (who: string) =>
      `#!/bin/sh\necho "${who} extra=\${NODE_EXTRA_CA_CERTS-unset} aside=\${DS01_NODE_EXTRA_CA_CERTS-unset}" >> ${log}\n` +
      // The wrapper's answer to the launcher's hand-off (hand-off.ts).
      `[ -z "$DS01_HANDOFF_FD" ] || echo 'exit 0' >&3\n`;
    const fakeReal = path.join(box.dir, 'real-ca');
    const fakeNode = path.join(box.dir, 'node-ca');
    fs.writeFileSync(fakeReal, record('real'), { mode: 0o755 });
    fs.writeFileSync(fakeNode, record('node'), { mode: 0o755 });
    const launcher = path.join(box.dir, 'launcher-ca');
    fs.writeFileSync(launcher, renderLauncher({ realDocker: fakeReal, node: fakeNode, wrapper: '/w.js' }), { mode: 0o755 });
    const run = (args: string[], env: Record<string, string>) =>
      execa(launcher, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false });
    await run(['images'], { NODE_EXTRA_CA_CERTS: '/site/ca.pem' });
    await run(['ps'], { NODE_EXTRA_CA_CERTS: '/site/ca.pem' });
    await run(['ps'], { NODE_EXTRA_CA_CERTS: '' });
    await run(['ps'], {});
    // Left over from somewhere else, it does not become the real client's NODE_EXTRA_CA_CERTS.
    await run(['ps'], { DS01_NODE_EXTRA_CA_CERTS: '/planted.pem' });
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'real extra=/site/ca.pem aside=unset',
      'node extra=unset aside=/site/ca.pem',
      'node extra=unset aside=',
      'node extra=unset aside=unset',
      'node extra=unset aside=unset',
    ]);
  });
});

describeDocker('transparency through the wrapper', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = makeSandbox();
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  it('run -it through a pseudo-terminal: the container sees a TTY, input reaches it, its exit code comes back', async () => {
    expectTtyProbe(
      await inPseudoTerminal(
        [process.execPath, wrapperBin, 'run', '-it', '--rm', '-l', TEST_LABEL, testImage, ...TTY_PROBE],
        box.env('alice'),
        'hello\n',
      ),
    );
  });

  it('pipes stdin and stdout, and returns the container’s exit code', async () => {
    const r = await wrapper(['run', '--rm', '-i', '-l', TEST_LABEL, testImage, 'sh', '-c', 'tr a-z A-Z; exit 7'], box.env('alice'), {
      input: 'piped text',
    });
    expect(String(r.stdout)).toBe('PIPED TEXT');
    expect(r.exitCode).toBe(7);
  });

  it('through the launcher, the real client gets NODE_EXTRA_CA_CERTS back (and can pass it on to a container)', async () => {
    const { renderLauncher } = await import('../src/index.js');
    const launcher = path.join(box.dir, 'docker-ca');
    fs.writeFileSync(launcher, renderLauncher({ realDocker, node: process.execPath, wrapper: wrapperBin }), { mode: 0o755 });
    const echo = (env: Record<string, string>) =>
      execa(
        launcher,
        ['run', '--rm', '-e', 'NODE_EXTRA_CA_CERTS', '-l', TEST_LABEL, testImage, 'sh', '-c', `echo "[\${NODE_EXTRA_CA_CERTS-unset}]"`],
        { env: box.env('alice', env), extendEnv: false, reject: false, stdin: 'ignore' },
      );
    const set = await echo({ NODE_EXTRA_CA_CERTS: '/site/ca.pem' });
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.stdout.trim()).toBe('[/site/ca.pem]');
    // Node itself did not read it (it would warn that the file cannot be loaded).
    expect(set.stderr).not.toMatch(/extra certs/i);
    expect((await echo({ NODE_EXTRA_CA_CERTS: '' })).stdout.trim()).toBe('[]');
  });

  it('forwards a signal sent to the wrapper to the real client (and on to the container)', async () => {
    const name = uniqueName('sig');
    const child = wrapper(
      [
        'run',
        '--rm',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        testImage,
        'sh',
        '-c',
        'trap "exit 42" TERM; echo ready; while :; do sleep 1; done',
      ],
      box.env('alice'),
      {
        buffer: true,
        stdout: 'pipe',
        // execa would follow up with SIGKILL after 5 s; the whole chain may take longer on a loaded machine.
        forceKillAfterDelay: false,
      },
    );
    const proc = child as unknown as { stdout: NodeJS.ReadableStream; kill: (s: string) => void };
    await new Promise<void>((resolve) => proc.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    proc.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(42);
  });

  it('docker ps formatting flags and docker container ls work as with the real client', async () => {
    const name = uniqueName('fmt');
    expect((await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, testImage, 'sleep', '60'], box.env('alice'))).exitCode).toBe(0);
    const viaWrapper = await wrapper(
      ['ps', '--no-trunc', '--filter', `name=${name}`, '--format', '{{.Names}}|{{.Label "ds01.user"}}|{{.Command}}'],
      box.env('alice'),
    );
    const direct = await execa(
      realDocker,
      ['ps', '--no-trunc', '--filter', `name=${name}`, '--format', '{{.Names}}|{{.Label "ds01.user"}}|{{.Command}}'],
      {
        env: { DOCKER_HOST: dockerHost },
      },
    );
    expect(String(viaWrapper.stdout)).toBe(String(direct.stdout));
    expect(String(viaWrapper.stdout)).toBe(`${name}|alice|"sleep 60"`);
    const ls = await wrapper(['container', 'ls', '-q', '--filter', `name=${name}`], box.env('alice'));
    expect(ls.exitCode).toBe(0);
    expect(String(ls.stdout).trim()).toBe((await inspectContainer(name))!.Id.slice(0, 12));
  });
});

describeDocker('as the real unprivileged user alice (uid/gid of alice, in group docker)', () => {
  let box: Sandbox;
  let unshare: () => void;
  beforeAll(() => {
    box = makeSandbox();
    fs.chmodSync(box.dir, 0o777);
    unshare = shareDockerSocket();
  });
  afterAll(async () => {
    unshare();
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  // runuser sets alice's supplementary groups (docker among them); spawn's uid/gid options would drop them.
  const asAlice = (args: string[], env: Record<string, string>) =>
    execa('runuser', ['-u', 'alice', '--', process.execPath, wrapperBin, ...args], {
      env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });

  it('cannot become bob (DS01_AS_USER) nor bypass; her container is hers; the attempts are logged', async () => {
    const name = uniqueName('real-alice');
    const env = box.env(null, { DS01_AS_USER: 'bob', DS01_WRAPPER_BYPASS: '1', HOME: box.dir });
    const r = await asAlice(['run', '-d', '--name', name, '-l', TEST_LABEL, testImage, 'sleep', '60'], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((await inspectContainer(name))!.Config.Labels['ds01.user']).toBe('alice');
    const denied = await asAlice(['run', '-d', '-l', TEST_LABEL, '--privileged', testImage, 'true'], env);
    expect(denied.exitCode).toBe(1);
    expect(String(denied.stderr)).toContain('refused (privileged)');
    const events = box.readEvents();
    expect(
      events.some(
        (e) => e.event_type === 'auth.bypass' && e.user === 'alice' && e.details.mode === 'as-user' && e.details.allowed === false,
      ),
    ).toBe(true);
    expect(
      events.some(
        (e) => e.event_type === 'auth.bypass' && e.user === 'alice' && e.details.mode === 'bypass' && e.details.allowed === false,
      ),
    ).toBe(true);
    expect(events.some((e) => e.event_type === 'auth.denied' && e.user === 'alice' && e.details.rule === 'privileged')).toBe(true);
  });
});
