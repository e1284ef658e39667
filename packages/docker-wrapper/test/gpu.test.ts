import fs from 'node:fs';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import {
  apiContainer,
  attempt,
  boundInState,
  gpuBin,
  inspectContainer,
  makeSandbox,
  type Sandbox,
  TEST_LABEL,
  wrapper,
  wrapperBin,
} from './helpers.js';

// a100x4 (test-support/fixtures/nvidia-smi/README.md)
const A100 = [
  'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'GPU-2955cb34-0454-fd36-bafd-e4714c589273',
  'GPU-c5661bc0-3b22-d06c-46f2-029255c1ae30',
  'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406',
];

const CONFIG = `
defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 2
  allow_full_gpu: true
  gpu_hold_after_stop_h: 0
default_group: student
groups:
  student: {}
  small:
    members: [carol]
    max_gpu_equivalents: 1
gpu_allocation:
  wait_max_s: 2
  wait_interval_s: 1
`;

interface Status {
  allocations: { container: string; container_id: string | null; user: string; state: string; gpus: { uuid: string }[] }[];
}

describeDocker('GPUs through the real ds01-gpu', () => {
  let box: Sandbox;
  beforeAll(() => {
    // The allocator is another package's bin; it must have been built (npx tsc -p packages/gpu-allocator/tsconfig.json).
    expect(fs.existsSync(gpuBin), `${gpuBin} is missing: build packages/gpu-allocator`).toBe(true);
    box = makeSandbox(CONFIG);
  });
  afterEach(async () => {
    await removeContainersByLabel(TEST_LABEL);
  });
  afterAll(() => box.cleanup());

  const status = async (): Promise<Status> => {
    const r = await execa(process.execPath, [gpuBin, 'status', '--json'], { env: box.env(null), extendEnv: false, reject: false });
    return JSON.parse(String(r.stdout)) as Status;
  };

  const forms: [string, string, number][] = [
    ['1', '1', 1],
    ['all (the per-container maximum)', 'all', 2],
    ['count=2', 'count=2', 2],
    ['quoted device list', '"device=0,1"', 2],
    ['a UUID picked by the user (re-allocated, never trusted)', `device=${A100[3]}`, 1],
    ['capabilities with a count', '"capabilities=compute,utility",count=1', 1],
  ];

  it.each(forms)(
    '--gpus %s: the allocated UUIDs end in DeviceRequests, labels, the allocator and the event',
    { timeout: 120_000 },
    async (_label, value, n) => {
      const name = uniqueName('gpu');
      const r = await wrapper(['create', '--name', name, '-l', TEST_LABEL, '--gpus', value, testImage], box.env('alice'));
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const c = (await inspectContainer(name))!;
      const ids = c.HostConfig.DeviceRequests?.[0]?.DeviceIDs ?? [];
      expect(ids).toHaveLength(n);
      for (const id of ids) expect(A100).toContain(id);
      expect(c.Config.Labels['ds01.gpu.uuids']).toBe(ids.join(','));
      expect(c.Config.Labels['ds01.gpu.uuid']).toBe(ids[0]);
      const alloc = (await status()).allocations.find((a) => a.container === name)!;
      expect(alloc).toMatchObject({ user: 'alice', container_id: c.Id });
      expect(alloc.gpus.map((g) => g.uuid)).toEqual(ids);
      const ev = box.readEvents().find((e) => e.event_type === 'container.create' && e.details.container === name);
      expect(((ev?.details.gpus ?? []) as { uuid: string }[]).map((g) => g.uuid)).toEqual(ids);
    },
  );

  it('the wrapper binds the reservation itself: after run -d returns, and while a foreground run is still running', {
    timeout: 120_000,
  }, async () => {
    const detached = uniqueName('bind-d');
    const r = await wrapper(['run', '-d', '--name', detached, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30'], box.env('alice'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const id = (await inspectContainer(detached))!.Id;
    expect(await boundInState(box, detached, 15_000)).toMatchObject({ state: 'active', container_id: id });

    const foreground = uniqueName('bind-fg');
    const running = wrapper(['run', '--name', foreground, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '8'], box.env('alice'));
    const bound = await boundInState(box, foreground, 7_000);
    expect(bound?.container_id).toBe((await inspectContainer(foreground))?.Id);
    expect((await running).exitCode).toBe(0);
  });

  it('through the bin, one allocator process allocates and then binds (no second ds01-gpu start)', {
    timeout: 120_000,
  }, async () => {
    // A DS01_GPU_BIN that notes each start, then runs the real allocator.
    const dir = fs.mkdtempSync('/tmp/ds01-gpu-starts-');
    const starts = `${dir}/starts.log`;
    const counting = `${dir}/ds01-gpu.cjs`;
    fs.writeFileSync(
      counting,
      `require('node:fs').appendFileSync(${JSON.stringify(starts)}, process.argv.slice(2).join(' ') + '\\n');\nrequire(${JSON.stringify(gpuBin)});\n`,
    );
    const name = uniqueName('one-start');
    const r = await wrapper(
      ['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'sleep', '30'],
      box.env('alice', { DS01_GPU_BIN: counting }),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const id = (await inspectContainer(name))!.Id;
    expect(await boundInState(box, name, 15_000)).toMatchObject({ state: 'active', container_id: id });
    expect(fs.readFileSync(starts, 'utf8').trim().split('\n')).toEqual(['allocate --stdin --json']);
  });

  it('a command refused after the allocator was started reserves and logs nothing, and leaves no allocator running', {
    timeout: 60_000,
  }, async () => {
    const victim = uniqueName('bobs');
    await apiContainer(victim, { 'ds01.user': 'bob', 'ds01.managed': 'true', 'ds01-test.wrapper': '1' });
    const name = uniqueName('early-refused');
    const r = await wrapper(['run', '-d', '--name', name, '--gpus', '1', '--volumes-from', victim, testImage, 'true'], box.env('alice'));
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(r.stderr).toMatch(/refused/);
    // The allocator the bin started reads end of input and stops: no session is left waiting.
    const sessions = async () => (await execa('pgrep', ['-f', 'ds01-gpu.cjs allocate --stdin'], { reject: false })).exitCode === 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await sessions())) await new Promise((res) => setTimeout(res, 100));
    expect(await sessions()).toBe(false);
    expect((await status()).allocations.filter((a) => a.container === name)).toEqual([]);
    expect(box.readEvents().filter((e) => e.event_type.startsWith('gpu.') && e.details.container === name)).toEqual([]);
    expect(await inspectContainer(name)).toBeNull();
  });

  it('the container sees exactly its allocated GPUs in NVIDIA_VISIBLE_DEVICES (two, correctly quoted)', { timeout: 120_000 }, async () => {
    const name = uniqueName('nvd');
    const r = await wrapper(
      ['run', '--name', name, '-l', TEST_LABEL, '--gpus', '2', testImage, 'sh', '-c', 'echo "$NVIDIA_VISIBLE_DEVICES"'],
      box.env('alice'),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const ids = (await inspectContainer(name))!.HostConfig.DeviceRequests?.[0]?.DeviceIDs ?? [];
    expect(ids).toHaveLength(2);
    expect(String(r.stdout).trim()).toBe(ids.join(','));
  });

  it('a broken allocator fails closed at once (DS01 hung 3 minutes, §7 C21)', async () => {
    const name = uniqueName('noalloc');
    const r = await attempt(
      ['run', '-d', '--name', name, '--gpus', '1', testImage, 'true'],
      box.env('alice', { DS01_GPU_BIN: '/nonexistent/ds01-gpu' }),
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused (gpu-allocator)');
    expect(r.stderr).not.toMatch(/waiting/);
    expect(await inspectContainer(name)).toBeNull();
  });

  it('an answer off the allocator contract is refused, through the bundled bin too; nothing is created', async () => {
    const fake = `${fs.mkdtempSync('/tmp/ds01-fake-gpu-')}/ds01-gpu.cjs`;
    // "allocated" without a reservation or GPUs: a wrapper that trusted it would run with no GPU pinned.
    fs.writeFileSync(fake, 'process.stdout.write(JSON.stringify({ status: "allocated", gpus: [] }));\n');
    const env = box.env('alice', { DS01_GPU_BIN: fake });
    const args = (name: string) => ['run', '-d', '--name', name, '--gpus', '1', testImage, 'true'];
    const inProcess = uniqueName('offcontract');
    const bundled = uniqueName('offcontract');
    const results = [
      await attempt(args(inProcess), env),
      await execa(process.execPath, [wrapperBin, ...args(bundled)], { env, reject: false }),
    ];
    for (const r of results) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('refused (gpu-allocator)');
      expect(r.stderr).toMatch(/does not understand: .*reservation/);
    }
    expect(await inspectContainer(inProcess)).toBeNull();
    expect(await inspectContainer(bundled)).toBeNull();
  });

  it('--gpus after the image is the container’s own argument and is left alone', async () => {
    const name = uniqueName('argv');
    const r = await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, testImage, 'echo', '--gpus', 'all'], box.env('alice'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const c = (await inspectContainer(name)) as unknown as { Config: { Cmd: string[] }; HostConfig: { DeviceRequests: unknown } };
    expect(c.Config.Cmd).toEqual(['echo', '--gpus', 'all']);
    expect(c.HostConfig.DeviceRequests ?? []).toEqual([]);
  });

  it('a quota refusal fails at once with the allocator’s message; nothing is created', { timeout: 120_000 }, async () => {
    const name = uniqueName('quota');
    const r = await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '2', testImage, 'true'], box.env('carol'));
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/refused \(gpu:[A-Z_]+\)/);
    expect(String(r.stderr)).not.toMatch(/waiting/);
    expect(await inspectContainer(name)).toBeNull();
    expect(
      box.readEvents().some((e) => e.event_type === 'auth.denied' && e.user === 'carol' && String(e.details.rule).startsWith('gpu:')),
    ).toBe(true);
  });

  it('waits while no GPU is free, with progress on stderr, then gives up at wait_max_s', { timeout: 120_000 }, async () => {
    for (const user of ['bob', 'dana']) {
      const r = await wrapper(
        ['run', '-d', '--name', uniqueName(user), '-l', TEST_LABEL, '--gpus', '2', testImage, 'sleep', '60'],
        box.env(user),
      );
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    const name = uniqueName('wait');
    const r = await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '1', testImage, 'true'], box.env('alice'));
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/waiting/);
    expect(String(r.stderr)).toContain('refused (gpu:NO_GPU_AVAILABLE)');
    expect(await inspectContainer(name)).toBeNull();
  });

  it('releases the reservation when docker fails after the allocation', { timeout: 120_000 }, async () => {
    const name = uniqueName('fails');
    const r = await wrapper(
      ['run', '--name', name, '-l', TEST_LABEL, '--gpus', '1', 'ds01-test/no-such-image:none', 'true'],
      box.env('alice'),
    );
    expect(r.exitCode).toBe(125);
    expect((await status()).allocations.find((a) => a.container === name)).toBeUndefined();
    const events = box.readEvents();
    expect(events.some((e) => e.event_type === 'gpu.allocate' && e.details.container === name)).toBe(true);
    expect(events.filter((e) => e.event_type === 'gpu.release' && e.details.container === name).map((e) => e.details.reason)).toEqual([
      'create_failed',
    ]);
    expect(events.some((e) => e.event_type === 'container.create' && e.details.container === name)).toBe(false);
  });

  it('start of a container whose GPUs were reclaimed is refused', { timeout: 120_000 }, async () => {
    const name = uniqueName('held');
    expect(
      (await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, '--gpus', '2', testImage, 'sleep', '60'], box.env('alice'))).exitCode,
    ).toBe(0);
    expect((await wrapper(['stop', '-t', '0', name], box.env('alice'))).exitCode).toBe(0);
    // gpu_hold_after_stop_h: 0, so bob and dana may take all four GPUs, including alice's.
    for (const user of ['bob', 'dana']) {
      const r = await wrapper(
        ['run', '-d', '--name', uniqueName(user), '-l', TEST_LABEL, '--gpus', '2', testImage, 'sleep', '60'],
        box.env(user),
      );
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    const r = await wrapper(['start', name], box.env('alice'));
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('refused (gpu:ALLOCATION_REVOKED)');
    expect((await inspectContainer(name))!.State.Running).toBe(false);
  });
});
