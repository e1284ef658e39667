import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { renderLauncher } from '../src/index.js';
import { shellQuote } from '../src/shell-quote.js';
import {
  boundInState,
  gpuBin,
  inspectContainer,
  makeSandbox,
  ONE_GPU_PER_CONTAINER,
  realDocker,
  type Sandbox,
  shareDockerSocket,
  TEST_LABEL,
  wrapperBin,
} from './helpers.js';

// The production path of `docker run --gpus`: a real unprivileged user runs the wrapper, which reaches the
// allocator through `sudo -n` (Debian's sudoers: env_reset, use_pty). The allocator session must get its
// request through sudo, answer, and still bind after the wrapper (and its end of the pipes) is gone.
const hasSudo = fs.existsSync('/usr/bin/sudo');
if (!hasSudo && process.env.CI) throw new Error('sudo is missing: .ci/run installs it');

// Only what points the allocator at this test's sandbox survives sudo's env_reset; a site's rule keeps none of it.
const KEEP = ['DS01_CONFIG', 'DS01_STATE_DIR', 'DS01_EVENTS_FILE', 'DS01_NVIDIA_SMI', 'DS01_FAKE_GPUS', 'DOCKER_HOST'];

describeDocker('GPUs as a real user, through sudo', () => {
  if (!hasSudo) {
    it.skip('needs sudo (apt-get install sudo)', () => {});
    return;
  }
  let box: Sandbox;
  let unshare: () => void;
  let launcher: string;
  const sudoers = `/etc/sudoers.d/ds01-test-gpu-${process.pid}`;
  beforeAll(() => {
    box = makeSandbox(ONE_GPU_PER_CONTAINER);
    fs.chmodSync(box.dir, 0o777);
    const rule = [`Defaults:alice env_keep += "${KEEP.join(' ')}"`, `alice ALL=(root) NOPASSWD: ${process.execPath} ${gpuBin} *`, ''].join(
      '\n',
    );
    fs.writeFileSync(`${sudoers}.tmp`, rule, { mode: 0o440 });
    execFileSync('visudo', ['-cqf', `${sudoers}.tmp`]);
    fs.renameSync(`${sudoers}.tmp`, sudoers);
    // The wrapper, running as alice, appends her container.create to the sandbox's log.
    fs.writeFileSync(box.events, '');
    fs.chmodSync(box.events, 0o666);
    unshare = shareDockerSocket();
    launcher = path.join(box.dir, 'docker');
    fs.writeFileSync(launcher, renderLauncher({ realDocker, node: process.execPath, wrapper: wrapperBin }), { mode: 0o755 });
  });
  afterEach(async () => {
    await removeContainersByLabel(TEST_LABEL);
  });
  afterAll(() => {
    fs.rmSync(sudoers, { force: true });
    unshare();
    box.cleanup();
  });

  /**
   * alice's `docker …` inside a pseudo-terminal (as at a shell prompt: sudo then uses a pty of its own),
   * through the wrapper's bin, or through the generated launcher, which starts the allocator itself.
   */
  const asAliceOnATerminal = (args: string[], via: 'wrapper' | 'launcher' = 'wrapper', extra: Record<string, string> = {}) => {
    const env = box.env(null, { HOME: box.dir, ...extra });
    const command = via === 'launcher' ? [launcher] : [process.execPath, wrapperBin];
    const quoted = ['runuser', '-u', 'alice', '--', ...command, ...args].map(shellQuote);
    return execa('script', ['-qec', quoted.join(' '), '/dev/null'], { env, extendEnv: false, reject: false, stdin: 'ignore' });
  };

  it('run -d --gpus 1 as alice: allocated through sudo, and bound after the wrapper has ended', { timeout: 120_000 }, async () => {
    const name = uniqueName('sudo-gpu');
    const r = await asAliceOnATerminal(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30']);
    expect(r.exitCode, String(r.stdout)).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels['ds01.user']).toBe('alice');
    const uuid = c.Config.Labels['ds01.gpu.uuids'];
    expect(c.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual([uuid]);
    // Read from the state file, not through ds01-gpu (which would bind it by name itself).
    expect(await boundInState(box, name, 15_000)).toMatchObject({ state: 'active', container_id: c.Id });
    const allocate = box.readEvents().find((e) => e.event_type === 'gpu.allocate' && e.details.container === name);
    expect(allocate?.user).toBe('alice');
  });

  it('run -d --gpus 1 as alice through the launcher: its allocator, started through sudo before Node, allocates and binds', {
    timeout: 120_000,
  }, async () => {
    const name = uniqueName('sudo-launcher');
    const r = await asAliceOnATerminal(
      ['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30'],
      'launcher',
    );
    expect(r.exitCode, String(r.stdout)).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels['ds01.user']).toBe('alice');
    expect(c.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual([c.Config.Labels['ds01.gpu.uuids']]);
    expect(await boundInState(box, name, 15_000)).toMatchObject({ state: 'active', container_id: c.Id });
    expect(box.readEvents().find((e) => e.event_type === 'gpu.allocate' && e.details.container === name)?.user).toBe('alice');
  });

  it("alice's own allocator (DS01_GPU_BIN, DS01_GPU_NO_SUDO=1) never runs: it goes through sudo, whose rule refuses it", {
    timeout: 60_000,
  }, async () => {
    // It would hand out any GPU she likes, and tell the wrapper the container is bound.
    const own = fs.mkdtempSync(path.join(box.dir, 'alice-'));
    const ran = path.join(own, 'ran');
    const fake = path.join(own, 'ds01-gpu');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\n: > '${ran}'\nread -r request\necho '{"status":"allocated","reservation":"r-alice","gpus":[{"uuid":"GPU-00000000-0000-0000-0000-000000000001"}]}'\nread -r bind\necho '{"status":"ok"}'\n`,
      { mode: 0o755 },
    );
    const alice = execFileSync('id', ['-u', 'alice'], { encoding: 'utf8' }).trim();
    fs.chownSync(own, Number(alice), Number(alice));
    fs.chownSync(fake, Number(alice), Number(alice));
    for (const via of ['wrapper', 'launcher'] as const) {
      const name = uniqueName(`own-gpu-${via}`);
      const r = await asAliceOnATerminal(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'true'], via, {
        DS01_GPU_BIN: fake,
        DS01_GPU_NO_SUDO: '1',
      });
      expect(r.exitCode, via).toBe(1);
      expect(String(r.stdout)).toContain('refused (gpu-allocator)');
      expect(fs.existsSync(ran), `${via}: alice's allocator ran`).toBe(false);
      expect(await inspectContainer(name)).toBeNull();
    }
  });

  it('a refused GPU run as alice reserves nothing, and leaves no allocator behind', { timeout: 60_000 }, async () => {
    const name = uniqueName('sudo-refused');
    const r = await asAliceOnATerminal(['run', '-d', '--name', name, '--privileged', '--gpus', '1', testImage, 'true']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stdout)).toContain('refused (privileged)');
    const sessions = async () => (await execa('pgrep', ['-f', `${gpuBin} allocate --stdin`], { reject: false })).exitCode === 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await sessions())) await new Promise((res) => setTimeout(res, 100));
    expect(await sessions()).toBe(false);
    expect(box.readEvents().filter((e) => e.event_type.startsWith('gpu.') && e.details.container === name)).toEqual([]);
    expect(await inspectContainer(name)).toBeNull();
  });
});
