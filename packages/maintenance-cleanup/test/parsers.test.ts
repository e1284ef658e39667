import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseStaleSchema } from '../src/allocator-schemas.js';
import { markSeen } from '../src/cleanup-state.js';
import { containerIdFromCgroup } from '../src/container-of-pid.js';
import { findOrphanAllocations } from '../src/find-orphans.js';
import { parseComputeApps, parseGpuList, physicalGpu } from '../src/read-gpu-processes.js';
import { runAllocator } from '../src/run-allocator.js';
import { fakeGpuBin } from './helpers.js';

const ID = '0123456789abcdef'.repeat(4);

describe('nvidia-smi output', () => {
  it('reads compute apps, process names with commas and [N/A] memory included', () => {
    expect(parseComputeApps('48213, /usr/bin/python3, GPU-aa, 70422\n7, my,odd,name, GPU-bb, [N/A]\n\n')).toEqual([
      { pid: 48213, processName: '/usr/bin/python3', gpuUuid: 'GPU-aa', usedMemoryMib: 70422 },
      { pid: 7, processName: 'my,odd,name', gpuUuid: 'GPU-bb' },
    ]);
  });

  it('maps MIG devices and indexes to their physical GPU from -L', () => {
    const inv = parseGpuList(
      [
        'GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-aaa)',
        'GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-bbb)',
        '  MIG 3g.40gb     Device  0: (UUID: MIG-m0)',
        '  MIG 1g.10gb     Device  1: (UUID: MIG-m1)',
      ].join('\n'),
    );
    expect(physicalGpu('MIG-m1', inv)).toBe('GPU-bbb');
    expect(physicalGpu('1:0', inv)).toBe('GPU-bbb');
    expect(physicalGpu('0', inv)).toBe('GPU-aaa');
    expect(physicalGpu('GPU-aaa', inv)).toBe('GPU-aaa');
  });
});

describe('cgroup paths', () => {
  it('finds the container id under cgroupfs, systemd scopes and ds01 slices; null for host processes', () => {
    expect(containerIdFromCgroup(`12:pids:/\n4:memory:/docker/${ID}\n0::/\n`)).toBe(ID);
    expect(containerIdFromCgroup(`0::/system.slice/docker-${ID}.scope\n`)).toBe(ID);
    expect(containerIdFromCgroup(`0::/ds01.slice/ds01-student.slice/ds01-student-alice.slice/docker-${ID}.scope\n`)).toBe(ID);
    expect(containerIdFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n')).toBeNull();
  });
});

describe('orphan allocations', () => {
  it('reports bound allocations whose container is gone, not pending ones or those about to be released', () => {
    const existing = { ids: new Set([ID]), names: new Set(['alive']) };
    const alloc = (id: string, state: string, container_id?: string, container?: string) => ({
      id,
      state,
      gpus: [{ uuid: 'GPU-1' }],
      ...(container_id ? { container_id } : {}),
      ...(container ? { container } : {}),
    });
    const found = findOrphanAllocations(
      [
        alloc('a', 'active', ID, 'alive'),
        alloc('b', 'active', ID.slice(0, 12)),
        alloc('c', 'held', 'f'.repeat(64), 'gone'),
        alloc('d', 'pending', undefined, 'coming'),
        alloc('e', 'held', 'e'.repeat(64), 'releasing'),
        alloc('f', 'active', undefined, 'alive'),
      ],
      existing,
      new Set(['releasing']),
    );
    expect(found.map((o) => o.id)).toEqual(['c']);
  });
});

describe('state of reported orphans', () => {
  it('returns only keys seen for the first time and forgets the ones gone', () => {
    const table: Record<string, { first_seen: string; last_seen: string }> = {};
    expect([...markSeen(table, ['x', 'y'], 't1')]).toEqual(['x', 'y']);
    expect([...markSeen(table, ['y', 'z'], 't2')]).toEqual(['z']);
    expect(Object.keys(table).sort()).toEqual(['y', 'z']);
    expect(table.y).toEqual({ first_seen: 't1', last_seen: 't2' });
  });
});

describe('running ds01-gpu', () => {
  const saved = { ...process.env };
  const dirs: string[] = [];
  afterEach(() => {
    process.env = { ...saved };
    while (dirs.length) fs.rmSync(dirs.pop() as string, { recursive: true, force: true });
  });

  it('runs a .js bin with node, validates the answer and reports a missing bin clearly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-cleanup-gpu-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'release-stale.json'), JSON.stringify({ status: 'ok', released: [], dry_run: true }));
    process.env.DS01_GPU_BIN = fakeGpuBin;
    process.env.FAKE_GPU_DIR = dir;
    expect(await runAllocator(['release-stale', '--dry-run'], releaseStaleSchema)).toEqual({
      ok: true,
      data: { status: 'ok', released: [], dry_run: true },
    });
    expect(fs.readFileSync(path.join(dir, 'calls.jsonl'), 'utf8').trim()).toBe('["release-stale","--dry-run","--json"]');

    process.env.DS01_GPU_BIN = path.join(dir, 'no-such-ds01-gpu');
    const missing = await runAllocator(['release-stale'], releaseStaleSchema);
    expect(missing).toMatchObject({ ok: false, message: expect.stringMatching(/not found \(set DS01_GPU_BIN/) });
  });
});
