import { expect, it } from 'vitest';
import { describeDocker, dockerApi, testImage, uniqueName } from '../../../test-support/docker.js';
import { events, execa, realGpuBin, runJson, type Site, site, sleep, start, stateOf, TEST_LABEL, waitExit } from './helpers.js';

// The real ds01-gpu (packages/gpu-allocator, built), run as its bin, never imported.
const CONFIG = `
defaults:
  max_gpu_equivalents: 4
  max_gpu_slots_per_container: 2
  allow_full_gpu: true
  container_hold_after_stop_h: 100
  gpu_hold_after_stop_h: 0.0005
default_group: student
groups:
  student:
    members: [alice, bob]
`;
const SLOW = 150_000;

interface Allocated {
  reservation: string;
  gpus: { uuid: string; slot: string }[];
}
interface Status {
  allocations: { id: string; container: string; container_id?: string | null; state: string; gpus: { uuid: string }[] }[];
}

async function gpu<T>(s: Site, args: string[]): Promise<T> {
  const r = await execa(process.execPath, [realGpuBin, ...args, '--json'], { reject: false, env: { ...process.env, ...s.env } });
  if (r.exitCode !== 0) throw new Error(`ds01-gpu ${args.join(' ')}: exit ${r.exitCode}: ${r.stdout} ${r.stderr}`);
  return JSON.parse(String(r.stdout)) as T;
}

/** What the wrapper does: allocate, create with the GPU labels and DeviceRequests, bind. */
async function gpuContainer(s: Site, user: string, name: string, cmd: string[]): Promise<{ id: string; name: string; uuids: string[] }> {
  const a = await gpu<Allocated>(s, ['allocate', '--user', user, '--container', name]);
  const uuids = a.gpus.map((g) => g.uuid);
  const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
    Image: testImage,
    Cmd: cmd,
    Labels: {
      [TEST_LABEL.split('=')[0] as string]: String(process.pid),
      'ds01.managed': 'true',
      'ds01.user': user,
      'ds01.container_type': 'atomic',
      'ds01.gpu.uuids': uuids.join(','),
      'ds01.gpu.uuid': uuids[0] as string,
      'ds01.gpu.slots': a.gpus.map((g) => g.slot).join(','),
    },
    HostConfig: { NetworkMode: 'none', DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: uuids, Capabilities: [['gpu']] }] },
  });
  if (res.status !== 201 || !res.json) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  await gpu(s, ['bind', '--reservation', a.reservation, '--container-id', res.json.Id]);
  await start(res.json.Id);
  return { id: res.json.Id, name, uuids };
}

describeDocker('ds01-cleanup with the real ds01-gpu', () => {
  it(
    "leaves the allocator's state and Docker in agreement after a run",
    async () => {
      const s = site(CONFIG, { DS01_GPU_BIN: realGpuBin });
      const p = uniqueName('agree');
      const stopped = await gpuContainer(s, 'alice', `${p}-stopped`, ['true']);
      await waitExit(stopped.id);
      const running = await gpuContainer(s, 'bob', `${p}-running`, ['sleep', '300']);
      // The allocator sees the stop and holds the GPU for the stopped one.
      const before = await gpu<Status>(s, ['status']);
      expect(before.allocations.find((a) => a.container === stopped.name)?.state).toBe('held');
      await sleep(2300);

      const { report, exitCode, stderr } = await runJson(s, ['all', '--name-filter', `${p}-`]);
      expect(stderr).toBe('');
      expect(report.warnings).toEqual([]);
      expect(exitCode).toBe(0);
      expect(await stateOf(stopped.id)).toBeNull();
      expect(await stateOf(running.id)).toBe('running');

      // Agreement: every allocation belongs to a container that exists, and
      // every GPU container that exists has its allocation on its GPUs.
      const after = await gpu<Status>(s, ['status']);
      const live = after.allocations.filter((a) => a.state !== 'revoked');
      expect(live.map((a) => a.container)).toEqual([running.name]);
      expect(live[0]?.state).toBe('active');
      expect(live[0]?.gpus.map((g) => g.uuid)).toEqual(running.uuids);
      for (const a of after.allocations) {
        expect(a.container_id ? await stateOf(a.container_id) : null).not.toBeNull();
      }

      // The removal is one container.remove naming the GPUs released, and one gpu.release.
      const removal = events(s, 'container.remove');
      expect(removal).toHaveLength(1);
      expect(removal[0]?.details).toMatchObject({ container: stopped.name, reason: 'hold_expired', gpus_released: stopped.uuids });
      const releases = events(s, 'gpu.release').filter(
        (e) => e.details.container === stopped.name || e.details.container_id === stopped.id,
      );
      expect(releases).toHaveLength(1);
      expect(report.orphan_allocations).toEqual([]);
    },
    SLOW,
  );
});
