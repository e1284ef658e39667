import fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, uniqueName } from '../../../test-support/docker.js';
import {
  A100,
  BASE_CONFIG,
  createContainer,
  removeContainer,
  sandbox,
  sleep,
  startContainer,
  stopContainer,
  TEST_LABEL,
  wrapperCreate,
} from './helpers.js';

afterAll(async () => {
  await removeContainersByLabel(TEST_LABEL);
});

describeDocker('allocation lifecycle against the real engine', () => {
  it('allocate → create → bind → status; idempotent per name; removal releases', async () => {
    const sb = sandbox();
    const c = await wrapperCreate(sb, 'alice');
    expect(c.alloc).toMatchObject({ status: 'allocated', user: 'alice', container: c.name, reused_hold: false, usage: 1, limit: 2 });
    expect(c.alloc.gpus).toEqual([{ uuid: A100[0], slot: '0', weight: 1 }]);
    const again = await sb.json(['allocate', '--user', 'alice', '--container', c.name], { DS01_AS_USER: 'alice' });
    expect(again.out.reservation).toBe(c.alloc.reservation);
    const st = await sb.json(['status']);
    expect(st.out.gpus[0]).toMatchObject({ slot: '0', state: 'active', user: 'alice', container: c.name, container_id: c.id });
    expect(st.out.summary).toMatchObject({ total_slots: 4, allocated_slots: 1, allocated_weight: 1 });
    expect(sb.events('gpu.allocate')).toHaveLength(1);

    await removeContainer(c.id);
    const rec = await sb.json(['reconcile']);
    expect(rec.out.released).toEqual([expect.objectContaining({ container: c.name, reason: 'removed', user: 'alice' })]);
    expect(sb.state().allocations).toEqual([]);
    expect(sb.events('gpu.release')).toEqual([
      expect.objectContaining({ user: 'alice', details: expect.objectContaining({ reason: 'removed' }) }),
    ]);
    // One event per action: a second reconcile finds nothing to do.
    await sb.json(['reconcile']);
    expect(sb.events('gpu.release')).toHaveLength(1);
  });

  it('a stopped container holds its GPU; start reuses it; others are told who holds it until when', async () => {
    const sb = sandbox({
      config: BASE_CONFIG.replace('max_gpu_equivalents: 2', 'max_gpu_equivalents: 4').replace(
        'max_gpu_slots_per_container: 2',
        'max_gpu_slots_per_container: 4',
      ),
    });
    const a = await wrapperCreate(sb, 'alice');
    const fill = await wrapperCreate(sb, 'bob', { count: 3 });
    expect(fill.alloc.gpus).toHaveLength(3);
    await stopContainer(a.id);
    const st = await sb.json(['status', '--container', a.name]);
    expect(st.out.allocations[0]).toMatchObject({ state: 'held', container_id: a.id });
    const until = Date.parse(st.out.allocations[0].hold_until);
    expect(until - Date.parse(st.out.allocations[0].stopped_at)).toBe(0.25 * 3_600_000);
    expect(sb.events('gpu.hold')).toEqual([
      expect.objectContaining({ user: 'alice', details: expect.objectContaining({ container: a.name }) }),
    ]);

    const refused = await sb.json(['allocate', '--user', 'carol', '--container', uniqueName('carol')], { DS01_AS_USER: 'carol' });
    expect(refused.code).toBe(1);
    expect(refused.out).toMatchObject({ status: 'rejected', reason: 'NO_GPU_AVAILABLE', retryable: true, requested: 1 });
    expect(refused.out.message).toContain(`alice/${a.name} held until`);

    const start = await sb.json(['start', '--container-id', a.id], { DS01_AS_USER: 'alice' });
    expect(start).toMatchObject({ code: 0, out: { status: 'ok', managed: true } });
    expect(start.out.gpus).toEqual(a.alloc.gpus);
    await startContainer(a.id);
    const after = await sb.json(['status', '--container', a.name]);
    expect(after.out.allocations[0]).toMatchObject({ state: 'active', hold_until: null });
  });

  it('an expired hold is reclaimed under contention; the old container is revoked and its start refused', async () => {
    const sb = sandbox({
      config: `${BASE_CONFIG.replace('gpu_hold_after_stop_h: 0.25', 'gpu_hold_after_stop_h: 0.0005')}\nuser_overrides:\n  bob: { max_gpu_equivalents: 4, max_gpu_slots_per_container: 4 }\n`,
    });
    const a = await wrapperCreate(sb, 'alice');
    await wrapperCreate(sb, 'bob', { count: 3 });
    await stopContainer(a.id);
    await sb.json(['status']);
    await sleep(2500); // hold 1.8 s
    const st = await sb.json(['status']);
    expect(st.out.gpus[0]).toMatchObject({ state: 'held', user: 'alice' });
    const carol = await sb.json(['allocate', '--user', 'carol', '--container', uniqueName('carol')], { DS01_AS_USER: 'carol' });
    expect(carol.out).toMatchObject({ status: 'allocated', gpus: [{ uuid: A100[0], slot: '0', weight: 1 }] });
    const released = sb.events('gpu.release');
    expect(released).toEqual([
      expect.objectContaining({ user: 'alice', details: expect.objectContaining({ reason: 'revoked', container: a.name }) }),
    ]);
    const start = await sb.json(['start', '--container-id', a.id], { DS01_AS_USER: 'alice' });
    expect(start.code).toBe(1);
    expect(start.out).toMatchObject({ status: 'rejected', reason: 'ALLOCATION_REVOKED' });
    expect(start.out.message).toContain('carol');
  });

  it('release-stale frees expired holds; a later start gets the same GPU back when it is still free', async () => {
    const sb = sandbox({ config: BASE_CONFIG.replace('gpu_hold_after_stop_h: 0.25', 'gpu_hold_after_stop_h: 0.0003') });
    const a = await wrapperCreate(sb, 'alice');
    await stopContainer(a.id);
    await sb.json(['status']);
    await sleep(1500);
    const dry = await sb.json(['release-stale', '--dry-run']);
    expect(dry.out).toMatchObject({ dry_run: true, released: [expect.objectContaining({ reason: 'hold_expired' })] });
    expect(sb.state().allocations[0].state).toBe('held');
    const rs = await sb.json(['release-stale']);
    expect(rs.out.released).toEqual([expect.objectContaining({ container: a.name, reason: 'hold_expired', user: 'alice' })]);
    expect(sb.state().allocations[0]).toMatchObject({ state: 'revoked', revoked_reason: 'hold_expired' });
    const start = await sb.json(['start', '--container-id', a.id], { DS01_AS_USER: 'alice' });
    expect(start.out).toMatchObject({ status: 'ok', managed: true, reused_hold: true });
    expect(start.out.gpus[0].uuid).toBe(A100[0]);
  });

  it('gpu_hold_after_stop_h 0 releases at stop; null holds until removal', async () => {
    const sb = sandbox({
      config: `${BASE_CONFIG.replace('gpu_hold_after_stop_h: 0.25', 'gpu_hold_after_stop_h: 0')}\nuser_overrides:\n  bob: { gpu_hold_after_stop_h: null }\n`,
    });
    const a = await wrapperCreate(sb, 'alice');
    const b = await wrapperCreate(sb, 'bob');
    await stopContainer(a.id);
    await stopContainer(b.id);
    const rec = await sb.json(['reconcile']);
    expect(rec.out.released).toEqual([expect.objectContaining({ container: a.name, reason: 'hold_expired' })]);
    expect(rec.out.held).toEqual([expect.objectContaining({ container: b.name, until: null })]);
    const rs = await sb.json(['release-stale']);
    expect(rs.out.released).toEqual([]);
  });

  it('a reservation whose container never appears expires', async () => {
    const sb = sandbox({ config: `${BASE_CONFIG}\ngpu_allocation:\n  reservation_ttl_s: 1\n` });
    const name = uniqueName('ghost');
    const a = await sb.json(['allocate', '--user', 'alice', '--container', name], { DS01_AS_USER: 'alice' });
    expect(a.out.state).toBe('pending');
    await sleep(1500);
    const rec = await sb.json(['reconcile']);
    expect(rec.out.released).toEqual([expect.objectContaining({ container: name, reason: 'reservation_expired', container_id: null })]);
    const bind = await sb.json(['bind', '--reservation', a.out.reservation, '--container-id', 'deadbeef'], { DS01_AS_USER: 'alice' });
    expect(bind).toMatchObject({ code: 1, out: { reason: 'UNKNOWN_RESERVATION' } });
  });

  it('a container without ds01 labels keeps its allocation when stopped: held, not taken for removed', async () => {
    // The allocator lists only running and ds01-labelled containers; one the state names that neither
    // listing shows (an admin's raw-API container, bound by hand) is looked up by id.
    const sb = sandbox();
    const name = uniqueName('bare');
    const a = await sb.json(['allocate', '--user', 'alice', '--container', name]);
    const c = await createContainer({ sb, user: 'alice', name, gpus: [a.out.gpus[0].uuid], wrapperLabels: false, start: true });
    const b = await sb.json(['bind', '--reservation', a.out.reservation, '--container-id', c.id.slice(0, 12)]);
    expect(b.out).toMatchObject({ status: 'bound', container_id: c.id });
    await stopContainer(c.id);
    const st = await sb.json(['status', '--container', name]);
    expect(st.out.allocations).toEqual([expect.objectContaining({ state: 'held', container_id: c.id })]);
    expect(sb.events('gpu.release')).toEqual([]);
    const started = await sb.json(['start', '--container-id', name]);
    expect(started.out).toMatchObject({ status: 'ok', managed: true, reused_hold: true });
    await removeContainer(c.id);
    const rec = await sb.json(['reconcile']);
    expect(rec.out.released).toEqual([expect.objectContaining({ container: name, reason: 'removed' })]);
  });

  it('a pending reservation is bound when its container appears, even without bind', async () => {
    const sb = sandbox();
    const name = uniqueName('late-bind');
    const a = await sb.json(['allocate', '--user', 'alice', '--container', name], { DS01_AS_USER: 'alice' });
    const c = await createContainer({ sb, user: 'alice', name, gpus: [a.out.gpus[0].uuid], start: true });
    const st = await sb.json(['status', '--container', name]);
    expect(st.out.allocations[0]).toMatchObject({ state: 'active', container_id: c.id, id: a.out.reservation });
    const bind = await sb.json(['bind', '--reservation', a.out.reservation, '--container-id', c.id], { DS01_AS_USER: 'alice' });
    expect(bind.out).toMatchObject({ status: 'bound', container_id: c.id });
  });

  it('a pending reservation named like an id prefix of other containers is looked up by name only', async () => {
    // Docker reads a ref that is no container's name as an id prefix: one that several ids share is an
    // error (which stopped every ds01-gpu command while the reservation was pending), one that a single id
    // starts with names that other container.
    const sb = sandbox();
    const ids: string[] = [];
    const byPrefix = new Map<string, string[]>();
    let shared: string | undefined;
    while (!shared && ids.length < 120) {
      const c = await createContainer({ sb, user: 'bob', wrapperLabels: false });
      ids.push(c.id);
      const p = c.id.slice(0, 2);
      byPrefix.set(p, [...(byPrefix.get(p) ?? []), c.id]);
      if ((byPrefix.get(p) ?? []).length > 1) shared = p;
    }
    try {
      expect(shared, 'two containers whose ids share a 2-character prefix').toBeDefined();
      const unique = ids.find((id) => byPrefix.get(id.slice(0, 2))!.length === 1)!.slice(0, 6);
      for (const name of [shared!, unique]) {
        const a = await sb.json(['allocate', '--user', 'alice', '--container', name], { DS01_AS_USER: 'alice' });
        expect(a.out).toMatchObject({ status: 'allocated', state: 'pending' });
      }
      const st = await sb.json(['status']);
      expect(st.code, JSON.stringify(st.out)).toBe(0);
      expect(st.out.allocations).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ container: shared, state: 'pending', container_id: null }),
          expect.objectContaining({ container: unique, state: 'pending', container_id: null }),
        ]),
      );
    } finally {
      for (const id of ids) await removeContainer(id);
    }
  });

  it('containers using GPUs around the wrapper are unmanaged and their GPUs are not handed out', async () => {
    const sb = sandbox();
    const rogue = await createContainer({ sb, user: 'bob', gpus: [A100[0], A100[1]], wrapperLabels: false, start: true });
    const all = await createContainer({ sb, user: 'bob', allGpus: true, wrapperLabels: false, start: false });
    const st = await sb.json(['status']);
    expect(st.out.gpus.slice(0, 2).map((g: { state: string }) => g.state)).toEqual(['unmanaged', 'unmanaged']);
    expect(st.out.unmanaged).toEqual([expect.objectContaining({ container_id: rogue.id, gpus: [A100[0], A100[1]] })]);
    expect(sb.events('gpu.unmanaged')).toEqual([expect.objectContaining({ details: expect.objectContaining({ container_id: rogue.id }) })]);
    const a = await sb.json(['allocate', '--user', 'alice', '--container', uniqueName('a')], { DS01_AS_USER: 'alice' });
    expect(a.out.gpus[0].slot).toBe('2');
    // Cached: a second status does not report it again.
    await sb.json(['status']);
    expect(sb.events('gpu.unmanaged')).toHaveLength(1);
    // `--gpus all` started around the wrapper takes every free GPU away.
    await startContainer(all.id);
    const b = await sb.json(['allocate', '--user', 'bob', '--container', uniqueName('b')], { DS01_AS_USER: 'bob' });
    expect(b.out).toMatchObject({ status: 'rejected', reason: 'NO_GPU_AVAILABLE' });
  });

  it('a corrupt state file is moved aside and rebuilt from Docker labels and DeviceRequests', async () => {
    const sb = sandbox();
    const a = await wrapperCreate(sb, 'alice');
    const b = await wrapperCreate(sb, 'bob');
    await stopContainer(b.id);
    await sb.json(['status']);
    const before = sb.state().allocations.map((x: { container: string; state: string; gpus: unknown }) => [x.container, x.state, x.gpus]);
    fs.writeFileSync(sb.stateFile, '{"version":1,"allocations":[{"id":');
    const st = await sb.json(['status']);
    expect(st.code).toBe(0);
    const after = sb.state().allocations.map((x: { container: string; state: string; gpus: unknown }) => [x.container, x.state, x.gpus]);
    expect(after.sort()).toEqual(before.sort());
    const rebuilt = sb.events('gpu.state_rebuilt');
    expect(rebuilt).toEqual([expect.objectContaining({ details: expect.objectContaining({ allocations: 2 }) })]);
    expect(fs.existsSync(rebuilt[0].details.moved_to)).toBe(true);
    // The rebuilt hold still keeps bob's GPU from alice.
    const held = sb.state().allocations.find((x: { container: string }) => x.container === b.name);
    expect(held.hold_until).not.toBeNull();
    expect(a.id).toBeTruthy();
  });
});
