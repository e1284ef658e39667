import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, testImage, uniqueName } from '../../../../test-support/docker.js';
import { fakeGpuEnv, fakeNvidiaSmi } from '../../../../test-support/fake-gpus.js';
import { makeSandbox, readLogged, repoRoot, startWatcher, stopWatcher, waitFor } from './helpers.js';

// The real allocator, through its built bin (the watcher only ever runs it as a command).
const gpuBin = path.join(repoRoot, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs');

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await dockerApi('DELETE', `/containers/${id}?force=1`);
});

describeDocker('ds01-docker-watch with the real ds01-gpu', () => {
  it("a GPU container's stop starts its hold in `ds01-gpu status` without any other command", async () => {
    expect(fs.existsSync(gpuBin), `${gpuBin} is missing: build packages/gpu-allocator first`).toBe(true);
    const box = makeSandbox();
    const config = path.join(box.dir, 'resource-limits.yaml');
    fs.writeFileSync(
      config,
      'defaults:\n  allow_full_gpu: true\n  max_gpu_equivalents: 1\n  max_gpu_slots_per_container: 1\n  gpu_hold_after_stop_h: 0.5\n',
    );
    const scope = `ds01test.scope=${path.basename(box.dir)}`;
    box.env = {
      ...fakeGpuEnv('a100x4'),
      DS01_NVIDIA_SMI: fakeNvidiaSmi,
      DS01_EVENTS_FILE: box.eventsFile,
      DS01_STATE_DIR: box.stateDir,
      DS01_CONFIG: config,
      DS01_GPU_BIN: gpuBin,
      DS01_GPU_SCOPE_LABEL: scope,
      DS01_AS_USER: undefined,
      SUDO_USER: undefined,
    };
    const gpu = async (...args: string[]) => {
      const r = await execa(process.execPath, [gpuBin, ...args, '--json'], { env: { ...box.env, DS01_AS_USER: 'alice' }, reject: false });
      return { code: r.exitCode, out: JSON.parse(String(r.stdout)) };
    };

    // Created as the wrapper would: allocate, create with its labels, bind, start.
    const name = uniqueName('watch-gpu');
    const alloc = await gpu('allocate', '--user', 'alice', '--container', name);
    expect(alloc.code).toBe(0);
    const uuids: string[] = alloc.out.gpus.map((g: { uuid: string }) => g.uuid);
    const [scopeKey, scopeValue] = scope.split('=') as [string, string];
    const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
      Image: testImage,
      Cmd: ['sleep', '3600'],
      Labels: {
        [scopeKey]: scopeValue,
        'ds01.user': 'alice',
        'ds01.managed': 'true',
        'ds01.container_type': 'atomic',
        'ds01.gpu.uuids': uuids.join(','),
        'ds01.gpu.uuid': uuids[0] as string,
      },
      HostConfig: { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: uuids, Capabilities: [['gpu']] }], NetworkMode: 'none' },
    });
    expect(res.status).toBe(201);
    const id = res.json?.Id as string;
    created.push(id);
    expect((await gpu('bind', '--reservation', alloc.out.reservation, '--container-id', id)).code).toBe(0);
    expect((await dockerApi('POST', `/containers/${id}/start`)).status).toBe(204);

    const watcher = await startWatcher(box);
    expect((await dockerApi('POST', `/containers/${id}/kill`)).status).toBe(204);
    // Nothing but the watcher runs ds01-gpu now: the hold event comes from its reconcile.
    const hold = await waitFor(
      'gpu.hold from the reconcile the watcher ran',
      () => readLogged(box.eventsFile).find((e) => e.event_type === 'gpu.hold'),
      40_000,
    ).catch((err: Error) => {
      watcher.proc.kill('SIGTERM');
      throw err;
    });
    expect(hold.user).toBe('alice');
    const stop = readLogged(box.eventsFile).find((e) => e.event_type === 'container.stop' && e.details?.container_id === id);
    expect(stop?.user).toBe('alice');
    const status = await gpu('status', '--container', id);
    expect(status.out.allocations[0]).toMatchObject({ state: 'held', container_id: id });
    expect(Date.parse(status.out.allocations[0].hold_until)).toBeGreaterThan(Date.now());
    expect(await stopWatcher(watcher)).toBe(0);
  }, 90_000);
});
