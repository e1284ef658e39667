import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSiteConfig } from '@ds01/events-core/config';
import { describe, expect, it } from 'vitest';
import { buildInventory, decideAllocation, type GpuState, readGpuLimits } from '../src/index.js';
import { occupancy } from '../src/occupancy.js';

const fixtures = path.resolve(__dirname, '../../../test-support/fixtures/nvidia-smi');
// The fixtures are full captures; build the noheader,nounits answer of the five columns ds01-gpu asks for.
function inventory(scenario: string) {
  const csv = fs
    .readFileSync(path.join(fixtures, scenario, 'query-gpu.csv'), 'utf8')
    .trim()
    .split('\n');
  const head = (csv[0] as string).split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  const cols = ['index', 'uuid', 'name', 'memory.total', 'mig.mode.current'].map((c) => head.indexOf(c));
  const rows = csv.slice(1).map((l) => {
    const cells = l.split(', ');
    return cols.map((i) => (cells[i] as string).replace(/ MiB$/, '')).join(', ');
  });
  return buildInventory(fs.readFileSync(path.join(fixtures, scenario, 'list.txt'), 'utf8'), rows.join('\n'));
}

function config(yaml: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gpu-cfg-'));
  fs.writeFileSync(path.join(dir, 'resource-limits.yaml'), yaml);
  return loadSiteConfig(path.join(dir, 'resource-limits.yaml'));
}

const empty = (): GpuState => ({ version: 1, allocations: [], inspected: {}, removed: {}, updated_at: '' });
const now = Date.parse('2026-01-01T12:00:00Z');

function held(user: string, uuid: string, slot: string, weight: number, until: string | null) {
  return {
    id: `r-${user}-${slot}`,
    user,
    container: `${user}-${slot}`,
    container_id: `cid-${user}-${slot}`,
    state: 'held' as const,
    gpus: [{ uuid, slot, weight }],
    created_at: '',
    changed_at: now - 10_000,
    expires_at: null,
    hold_until: until,
  };
}

const cfg = config(`
defaults: { max_gpu_equivalents: 1, max_gpu_slots_per_container: 1, allow_full_gpu: true }
default_group: student
groups:
  student: { max_gpu_equivalents: 2, max_gpu_slots_per_container: 2, aggregate: { gpu_limit: 1.5 } }
  migonly: { members: [mona], allow_full_gpu: false, max_gpu_equivalents: 1, max_gpu_slots_per_container: 3 }
  big: { members: [bea], max_gpu_equivalents: null, max_gpu_slots_per_container: null }
`);

describe('decideAllocation', () => {
  const a100 = inventory('a100x4');
  const mig = inventory('mig-mixed');

  it('EXCEEDS_CONTAINER_LIMIT, AGGREGATE_GPU_QUOTA_EXCEEDED, FULL_GPU_NOT_ALLOWED, USER_AT_LIMIT, NO_GPU_AVAILABLE', () => {
    const s = empty();
    const d = (user: string, count: number, inv = a100, prefer?: 'full' | 'mig', st = s) =>
      decideAllocation({ user, count, prefer }, inv, st, occupancy(st, []), readGpuLimits(cfg, user), now);
    expect(d('alice', 3)).toMatchObject({
      ok: false,
      reason: 'EXCEEDS_CONTAINER_LIMIT',
      detail: 'EXCEEDS_CONTAINER_LIMIT (3>2)',
      retryable: false,
    });
    // student: max 2 but aggregate 1.5 → two whole GPUs pass the aggregate first.
    expect(d('alice', 2)).toMatchObject({
      ok: false,
      reason: 'AGGREGATE_GPU_QUOTA_EXCEEDED',
      detail: 'AGGREGATE_GPU_QUOTA_EXCEEDED (0+2>1.5)',
    });
    expect(d('mona', 1, a100)).toMatchObject({ ok: false, reason: 'FULL_GPU_NOT_ALLOWED' });
    expect(d('mona', 1, mig, 'full')).toMatchObject({ ok: false, reason: 'FULL_GPU_NOT_ALLOWED' });
    const withUse = empty();
    withUse.allocations.push({ ...held('mona', 'MIG-d7341a4d-8617-551d-916a-14fd2230c985', '2.0', 3 / 7, null), state: 'active' });
    withUse.allocations.push({ ...held('mona', 'MIG-49bc7ce8-bff5-5fcc-a986-bec2cd85efcd', '2.1', 2 / 7, null), state: 'active' });
    // mona holds 5/7; 3 more slots of at least 1/7 each make 8/7 > 1.
    expect(d('mona', 3, mig, undefined, withUse)).toMatchObject({ ok: false, reason: 'USER_AT_LIMIT', detail: 'USER_AT_LIMIT (0.7143/1)' });
    // Two 1g slices still fit: charged 2/7, not 2.0.
    const ok = d('mona', 2, mig, undefined, withUse);
    expect(ok).toMatchObject({ ok: true });
    if (ok.ok) {
      expect(ok.slots.map((x) => x.slot)).toEqual(['2.2', '2.3']);
      expect(ok.usageAfter).toBeCloseTo(1);
    }
    const full = empty();
    for (const [i, uuid] of a100.slots.map((x) => x.uuid).entries())
      full.allocations.push({ ...held('bob', uuid, String(i), 1, null), state: 'active' });
    expect(d('bea', 1, a100, undefined, full)).toMatchObject({ ok: false, reason: 'NO_GPU_AVAILABLE', retryable: true });
  });

  it('MIG usage counts by weight and a user who may not use whole GPUs gets slices', () => {
    const s = empty();
    const r = decideAllocation({ user: 'mona', count: 1 }, mig, s, occupancy(s, []), readGpuLimits(cfg, 'mona'), now);
    expect(r).toMatchObject({ ok: true });
    if (r.ok) {
      expect(r.slots[0]?.slot).toBe('2.0');
      expect(r.usageAfter).toBeCloseTo(3 / 7);
    }
    const pref = decideAllocation({ user: 'bea', count: 1, prefer: 'mig' }, mig, s, occupancy(s, []), readGpuLimits(cfg, 'bea'), now);
    expect(pref.ok && pref.slots[0]?.mig).toBe(true);
    const whole = decideAllocation({ user: 'bea', count: 1 }, mig, s, occupancy(s, []), readGpuLimits(cfg, 'bea'), now);
    expect(whole.ok && whole.slots[0]?.slot).toBe('0');
  });

  it('takes over an expired hold only when nothing else is free, and names the holders otherwise', () => {
    const s = empty();
    const uuids = a100.slots.map((x) => x.uuid);
    s.allocations.push({ ...held('bob', uuids[0] as string, '0', 1, null), state: 'active' });
    s.allocations.push(held('carol', uuids[1] as string, '1', 1, '2026-01-01T12:30:00Z'));
    s.allocations.push(held('dave', uuids[2] as string, '2', 1, '2026-01-01T11:00:00Z'));
    const limits = readGpuLimits(cfg, 'bea');
    const first = decideAllocation({ user: 'bea', count: 1 }, a100, s, occupancy(s, []), limits, now);
    expect(first.ok && first.slots[0]?.slot).toBe('3');
    expect(first.ok && first.reclaim).toEqual([]);
    s.allocations.push({ ...held('erin', uuids[3] as string, '3', 1, null), state: 'active' });
    const second = decideAllocation({ user: 'bea', count: 1 }, a100, s, occupancy(s, []), limits, now);
    expect(second.ok && second.slots[0]?.slot).toBe('2');
    expect(second.ok && second.reclaim.map((a) => a.user)).toEqual(['dave']);
    const third = decideAllocation({ user: 'bea', count: 2 }, a100, s, occupancy(s, []), limits, now);
    expect(third).toMatchObject({ ok: false, reason: 'NO_GPU_AVAILABLE', retryable: true });
    if (!third.ok) expect(third.message).toMatch(/1 carol\/carol-1 held until 12:30 UTC/);
  });
});
