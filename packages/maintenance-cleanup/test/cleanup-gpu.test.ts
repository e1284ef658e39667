import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, uniqueName } from '../../../test-support/docker.js';
import {
  allocatorCalls,
  answer,
  computeApps,
  createContainer,
  entriesFor,
  events,
  exitedContainer,
  GPU0,
  GPU1,
  runJson,
  site,
  sleep,
  start,
  stateOf,
} from './helpers.js';

// GPU holds of 0.0005 h (1.8 s); the container hold is long, so only the GPU
// phase can remove these. bob's group holds GPUs until removal (null).
const CONFIG = `
defaults:
  container_hold_after_stop_h: 100
  gpu_hold_after_stop_h: 0.0005
default_group: student
groups:
  student:
    members: [alice]
  keepers:
    members: [bob]
    gpu_hold_after_stop_h: null
`;
const PAST_HOLD_MS = 2300;
const SLOW = 120_000;

type Made = { id: string; name: string };

describeDocker('ds01-cleanup gpu', () => {
  const p = uniqueName('gpu');
  const c: Record<string, Made> = {};
  let hostProcess: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    const made = await Promise.all([
      exitedContainer({ name: `${p}-expired`, user: 'alice', gpus: [GPU0] }),
      exitedContainer({ name: `${p}-cpu`, user: 'alice' }),
      exitedContainer({ name: `${p}-bob`, user: 'bob', gpus: [GPU1] }),
      exitedContainer({ name: `${p}-noowner`, gpus: [GPU1] }),
      createContainer({ name: `${p}-busy`, user: 'alice', gpus: [GPU0], cmd: ['sleep', '300'] }).then(async (r) => {
        await start(r.id);
        return r;
      }),
    ]);
    for (const m of made) c[m.name.slice(p.length + 1)] = m;
    await sleep(PAST_HOLD_MS);
  }, SLOW);

  afterAll(() => {
    hostProcess?.kill('SIGKILL');
  });

  it(
    'removes stopped GPU containers past their GPU hold, releases them, runs release-stale, and logs each release once',
    async () => {
      const s = site(CONFIG);
      const expired = c.expired as Made;
      answer(s, 'release', {
        status: 'released',
        released: [{ container: expired.name, container_id: expired.id, gpus: [{ uuid: GPU0, slot: '0', weight: 1 }] }],
      });
      // release-stale frees two more: one the allocator logs itself, one it does not.
      answer(s, 'release-stale', {
        status: 'ok',
        dry_run: false,
        released: [
          { container: 'gone-1', container_id: 'a'.repeat(64), user: 'carol', gpus: [{ uuid: GPU1, slot: '1' }], reason: 'hold_expired' },
          {
            container: 'gone-2',
            container_id: 'b'.repeat(64),
            user: 'bob',
            gpus: [{ uuid: GPU1, slot: '1' }],
            reason: 'reservation_expired',
          },
        ],
      });
      fs.writeFileSync(
        path.join(s.gpuDir, 'release-stale.events'),
        JSON.stringify([
          {
            type: 'gpu.release',
            user: 'carol',
            details: { container: 'gone-1', container_id: 'a'.repeat(64), gpus: [{ uuid: GPU1, slot: '1' }], reason: 'hold_expired' },
          },
        ]),
      );

      const { report, exitCode, stderr } = await runJson(s, ['gpu', '--name-filter', `${p}-`]);
      expect(stderr).toBe('');
      expect(exitCode).toBe(0);

      expect(await stateOf(expired.id)).toBeNull();
      expect(await stateOf((c.cpu as Made).id)).toBe('exited');
      expect(await stateOf((c.bob as Made).id)).toBe('exited');
      expect(await stateOf((c.noowner as Made).id)).toBe('exited');
      expect(await stateOf((c.busy as Made).id)).toBe('running');

      expect(entriesFor(report, expired.name)[0]).toMatchObject({
        phase: 'gpu',
        outcome: 'removed',
        reason: 'hold_expired',
        gpus_released: [GPU0],
      });
      expect(entriesFor(report, (c.bob as Made).name)[0]).toMatchObject({ decision: 'keep', reason: 'no_limit' });
      expect(entriesFor(report, (c.noowner as Made).name)[0]).toMatchObject({ decision: 'keep', reason: 'unknown_owner' });
      expect(entriesFor(report, (c.cpu as Made).name)).toEqual([]);

      const [removal, ...more] = events(s, 'container.remove');
      expect(more).toEqual([]);
      expect(removal).toMatchObject({
        user: 'alice',
        details: { container: expired.name, reason: 'hold_expired', hold_key: 'gpu_hold_after_stop_h', gpus_released: [GPU0] },
      });

      const calls = allocatorCalls(s).map((a) => a.slice(0, 3).join(' '));
      expect(calls).toEqual([`release --container ${expired.id}`, 'release-stale --json', 'status --json']);

      // One gpu.release per release: the allocator's own line is not repeated.
      const releases = events(s, 'gpu.release');
      expect(releases.map((e) => [e.details.container, e.details.reason, e.source]).sort()).toEqual(
        [
          [expired.name, 'removed', 'ds01-cleanup'],
          ['gone-1', 'hold_expired', 'ds01-gpu'],
          ['gone-2', 'reservation_expired', 'ds01-cleanup'],
        ].sort(),
      );
      expect(releases.find((e) => e.details.container === 'gone-2')?.user).toBe('bob');
      expect(report.gpu_releases).toHaveLength(3);
    },
    SLOW,
  );

  it(
    'reports orphan GPU processes and allocations once, as events, and leaves the processes running',
    async () => {
      const s = site(CONFIG);
      const busy = c.busy as Made;
      const info = await dockerApi<{ State: { Pid: number } }>('GET', `/containers/${busy.id}/json`);
      const busyPid = info.json?.State.Pid as number;
      expect(busyPid).toBeGreaterThan(0);
      hostProcess = spawn('sleep', ['300'], { stdio: 'ignore' });
      const hostPid = hostProcess.pid as number;
      computeApps(s, [
        { pid: hostPid, name: '/usr/bin/python3', gpu: GPU1, mib: 2048 },
        // The container's own process on its own GPU: fine.
        { pid: busyPid, name: 'sleep', gpu: GPU0, mib: 100 },
        // The same container's process on a GPU it was not given.
        { pid: busyPid, name: 'sleep', gpu: GPU1, mib: 100 },
      ]);
      answer(s, 'status', {
        gpus: [],
        summary: {},
        allocations: [
          {
            id: 'r-live',
            user: 'alice',
            container: busy.name,
            container_id: busy.id,
            state: 'active',
            gpus: [{ uuid: GPU0, slot: '0', weight: 1 }],
          },
          {
            id: 'r-lost',
            user: 'carol',
            container: 'vanished',
            container_id: 'c'.repeat(64),
            state: 'held',
            gpus: [{ uuid: GPU1, slot: '1', weight: 1 }],
          },
          { id: 'r-new', user: 'bob', container: 'coming', state: 'pending', gpus: [{ uuid: GPU1, slot: '1', weight: 1 }] },
        ],
      });

      const first = await runJson(s, ['gpu', '--name-filter', `${p}-nothing-matches`]);
      expect(first.exitCode).toBe(0);
      const orphans = first.report.orphan_processes;
      expect(orphans.map((o) => [o.pid, o.reason]).sort()).toEqual(
        [
          [hostPid, 'no_container'],
          [busyPid, 'container_without_gpu'],
        ].sort(),
      );
      expect(orphans.find((o) => o.pid === busyPid)).toMatchObject({ container: busy.name, user: 'alice', new: true });
      expect(orphans.find((o) => o.pid === hostPid)).toMatchObject({ user: 'root', new: true });
      expect(first.report.orphan_allocations).toEqual([expect.objectContaining({ id: 'r-lost', new: true })]);

      const procEvents = events(s, 'gpu.orphan_process');
      expect(procEvents).toHaveLength(2);
      expect(procEvents.find((e) => e.details.pid === hostPid)).toMatchObject({
        user: 'root',
        details: { gpu_uuid: GPU1, process_name: '/usr/bin/python3', used_memory_mib: 2048, reason: 'no_container' },
      });
      expect(procEvents.find((e) => e.details.pid === busyPid)).toMatchObject({
        user: 'alice',
        details: { gpu_uuid: GPU1, container: busy.name, container_id: busy.id, reason: 'container_without_gpu' },
      });
      expect(events(s, 'gpu.orphan_allocation')).toEqual([
        expect.objectContaining({
          user: 'carol',
          details: expect.objectContaining({ allocation: 'r-lost', container: 'vanished', gpus: [GPU1] }),
        }),
      ]);

      // Reported, never signalled.
      expect(() => process.kill(hostPid, 0)).not.toThrow();
      expect(await stateOf(busy.id)).toBe('running');

      // A second run still reports them, but logs nothing new.
      const second = await runJson(s, ['gpu', '--name-filter', `${p}-nothing-matches`]);
      expect(second.report.orphan_processes.every((o) => !o.new)).toBe(true);
      expect(second.report.orphan_processes).toHaveLength(2);
      expect(events(s, 'gpu.orphan_process')).toHaveLength(2);
      expect(events(s, 'gpu.orphan_allocation')).toHaveLength(1);
    },
    SLOW,
  );

  it(
    'goes on when the allocator or nvidia-smi fail, with warning events and exit 1',
    async () => {
      const s = site(CONFIG, { DS01_FAKE_GPUS: 'driver-failure' });
      answer(s, 'release-stale', { status: 'error', message: 'state lock timeout' }, 3);
      answer(s, 'status', 'this is not json\n');
      const { report, exitCode } = await runJson(s, ['gpu', '--name-filter', `${p}-nothing-matches`]);
      expect(exitCode).toBe(1);
      expect(report.failures).toBe(1);
      const warnings = events(s, 'maintenance.warning').map((e) => e.details);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            code: 'allocator_failed',
            message: expect.stringMatching(/release-stale: exit 3: state lock timeout/),
          }),
          expect.objectContaining({ code: 'allocator_failed', message: expect.stringMatching(/status: exit 0, no JSON/) }),
          expect.objectContaining({
            code: 'nvidia_smi_failed',
            message: expect.stringMatching(/couldn't communicate with the NVIDIA driver/),
          }),
        ]),
      );
      // An answer of the wrong shape is refused by the schema, not half-read.
      const s2 = site(CONFIG);
      answer(s2, 'release-stale', { status: 'ok', released: [{ container: 'x', reason: 'hold_expired' }] });
      const bad = await runJson(s2, ['gpu', '--name-filter', `${p}-nothing-matches`]);
      expect(bad.exitCode).toBe(1);
      expect(bad.report.warnings.join('\n')).toMatch(/unexpected answer .*gpus/);
      expect(events(s2, 'gpu.release')).toEqual([]);
    },
    SLOW,
  );
});
