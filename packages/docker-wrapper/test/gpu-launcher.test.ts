import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { renderLauncher } from '../src/index.js';
import {
  boundInState,
  gpuBin,
  inspectContainer,
  makeSandbox,
  ONE_GPU_PER_CONTAINER,
  realDocker,
  type Sandbox,
  TEST_LABEL,
  wrapperBin,
} from './helpers.js';

// The generated `docker` launcher starts the allocator of a command line that mentions --gpus itself, before
// Node has started, and hands it to the wrapper on two FIFOs (src/create/launcher-session.ts).
const CONFIG = `${ONE_GPU_PER_CONTAINER}gpu_allocation:
  wait_max_s: 1
  wait_interval_s: 1
`;

describeDocker('GPU runs through the generated launcher', () => {
  let box: Sandbox;
  let launcher: string;
  let tmp: string;
  let starts: string;
  let countingGpuBin: string;
  beforeAll(() => {
    expect(fs.existsSync(gpuBin), `${gpuBin} is missing: build packages/gpu-allocator`).toBe(true);
    box = makeSandbox(CONFIG);
    launcher = path.join(box.dir, 'docker');
    fs.writeFileSync(launcher, renderLauncher({ realDocker, node: process.execPath, wrapper: wrapperBin }), { mode: 0o755 });
    // The launcher's session directories go here (TMPDIR), so the tests can see that none is left behind.
    tmp = fs.mkdtempSync(path.join(box.dir, 'tmp-'));
    // A DS01_GPU_BIN that notes each start, then runs the real allocator.
    starts = path.join(box.dir, 'starts.log');
    countingGpuBin = path.join(box.dir, 'ds01-gpu.cjs');
    fs.writeFileSync(
      countingGpuBin,
      [
        "const fs = require('node:fs');",
        // Who started it: the launcher hands the allocator its request FIFO (a path), the wrapper an anonymous pipe.
        "const by = fs.readlinkSync('/proc/self/fd/0').includes('/ds01-gpu.') ? 'launcher' : 'wrapper';",
        `fs.appendFileSync(${JSON.stringify(starts)}, process.argv.slice(2).join(' ') + ' by ' + by + '\\n');`,
        `require(${JSON.stringify(gpuBin)});`,
        '',
      ].join('\n'),
    );
  });
  afterEach(async () => {
    await removeContainersByLabel(TEST_LABEL);
    fs.rmSync(starts, { force: true });
  });
  afterAll(() => box.cleanup());

  const viaLauncher = (args: string[], extra: Record<string, string> = {}) =>
    execa(launcher, args, {
      env: box.env('alice', { TMPDIR: tmp, DS01_GPU_BIN: countingGpuBin, ...extra }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
  const allocatorsRunning = async () =>
    (await execa('pgrep', ['-f', `${countingGpuBin} allocate --stdin`], { reject: false })).exitCode === 0;
  const untilNoAllocator = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && (await allocatorsRunning())) await new Promise((res) => setTimeout(res, 100));
    return !(await allocatorsRunning());
  };
  const startsLogged = () => (fs.existsSync(starts) ? fs.readFileSync(starts, 'utf8').trim().split('\n') : []);
  const sessionDirsLeft = () => fs.readdirSync(tmp);
  const allocationsOf = async (container: string) => {
    const r = await execa(process.execPath, [gpuBin, 'status', '--json'], { env: box.env(null), extendEnv: false });
    return (JSON.parse(r.stdout) as { allocations: { container: string }[] }).allocations.filter((a) => a.container === container);
  };

  it('run -d --gpus 1: the launcher’s allocator allocates and binds; the only one started; nothing left in TMPDIR', {
    timeout: 120_000,
  }, async () => {
    const name = uniqueName('launcher-gpu');
    const r = await viaLauncher(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    const c = (await inspectContainer(name))!;
    const uuid = c.Config.Labels['ds01.gpu.uuids'];
    expect(uuid).toMatch(/^GPU-/);
    expect(c.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual([uuid]);
    expect(await boundInState(box, name, 15_000)).toMatchObject({ state: 'active', container_id: c.Id });
    expect(startsLogged()).toEqual(['allocate --stdin --json by launcher']);
    expect(sessionDirsLeft()).toEqual([]);
    // The handover variable stays with the wrapper: the container's environment does not carry it.
    expect(c.Config.Env.some((e) => e.startsWith('DS01_GPU_SESSION'))).toBe(false);
  });

  it('under bash in POSIX mode (where /bin/sh is bash) the launcher hands over the same way', { timeout: 120_000 }, async () => {
    const name = uniqueName('launcher-bash');
    const r = await execa(
      'bash',
      ['--posix', launcher, 'run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30'],
      {
        env: box.env('alice', { TMPDIR: tmp, DS01_GPU_BIN: countingGpuBin }),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(await boundInState(box, name, 15_000)).toMatchObject({ state: 'active', container_id: c.Id });
    expect(startsLogged()).toEqual(['allocate --stdin --json by launcher']);
    expect(sessionDirsLeft()).toEqual([]);
  });

  it('container run through the launcher is handed over the same way', { timeout: 120_000 }, async () => {
    const name = uniqueName('launcher-container-run');
    const r = await viaLauncher(['container', 'run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus=1', testImage, 'sleep', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await inspectContainer(name))!.Config.Labels['ds01.gpu.uuids']).toMatch(/^GPU-/);
    expect(startsLogged()).toEqual(['allocate --stdin --json by launcher']);
    expect(sessionDirsLeft()).toEqual([]);
  });

  it('a refused command: the launcher’s allocator ends without reserving or logging anything', { timeout: 60_000 }, async () => {
    const name = uniqueName('launcher-refused');
    const r = await viaLauncher(['run', '-d', '--name', name, '--privileged', '--gpus', '1', testImage, 'true']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/refused \(privileged\)/);
    expect(startsLogged()).toEqual(['allocate --stdin --json by launcher']);
    expect(await untilNoAllocator(10_000)).toBe(true);
    expect(await allocationsOf(name)).toEqual([]);
    expect(box.readEvents().filter((e) => e.event_type.startsWith('gpu.') && e.details.container === name)).toEqual([]);
    expect(await inspectContainer(name)).toBeNull();
    expect(sessionDirsLeft()).toEqual([]);
  });

  it('--gpus after the image: the allocator the launcher started ends at once, while docker still runs', {
    timeout: 60_000,
  }, async () => {
    const name = uniqueName('launcher-not-gpu');
    // `--gpus` is the container's $0 here: no GPU request, so the wrapper ends the session before running docker.
    const running = viaLauncher(['run', '--name', name, '-l', TEST_LABEL, testImage, 'sh', '-c', 'sleep 8', '--gpus']);
    // The allocator reads end of input only if no process but the wrapper held the request FIFO: the real
    // client must not have inherited it.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(await inspectContainer(name))?.State.Running) await new Promise((res) => setTimeout(res, 100));
    expect((await inspectContainer(name))?.State.Running).toBe(true);
    expect(await untilNoAllocator(3_000)).toBe(true);
    expect((await inspectContainer(name))?.State.Running).toBe(true);
    const r = await running;
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await inspectContainer(name))!.HostConfig.DeviceRequests ?? []).toEqual([]);
    expect(await allocationsOf(name)).toEqual([]);
    expect(sessionDirsLeft()).toEqual([]);
  });

  it('an allocator that cannot be run fails closed, with what went wrong', { timeout: 60_000 }, async () => {
    const name = uniqueName('launcher-no-allocator');
    const r = await viaLauncher(['run', '-d', '--name', name, '--gpus', '1', testImage, 'true'], { DS01_GPU_BIN: '/nonexistent/ds01-gpu' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused (gpu-allocator)');
    expect(r.stderr).toMatch(/nonexistent\/ds01-gpu.*not found/);
    expect(await inspectContainer(name)).toBeNull();
    expect(sessionDirsLeft()).toEqual([]);
  });

  it('a DS01_GPU_SESSION set by hand is not a session: the wrapper starts its own allocator', { timeout: 120_000 }, async () => {
    const fake = fs.mkdtempSync(path.join(tmp, 'ds01-gpu.'));
    const name = uniqueName('forged-session');
    // Straight to the wrapper (the launcher unsets the variable), with fds 7 and 8 not the launcher's FIFOs.
    const r = await execa(process.execPath, [wrapperBin, 'run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'true'], {
      env: box.env('alice', { DS01_GPU_SESSION: fake, DS01_GPU_BIN: countingGpuBin }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await inspectContainer(name))!.Config.Labels['ds01.gpu.uuids']).toMatch(/^GPU-/);
    expect(startsLogged()).toEqual(['allocate --stdin --json by wrapper']);
    // Not the wrapper's to remove.
    expect(fs.existsSync(fake)).toBe(true);
    fs.rmdirSync(fake);
  });
});
