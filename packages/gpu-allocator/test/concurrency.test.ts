import { execa } from 'execa';
import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { BIN, sandbox } from './helpers.js';

const USERS = ['alice', 'bob', 'carol', 'dana'];
const CONFIG = `
defaults:
  max_gpu_equivalents: 2
  max_gpu_slots_per_container: 1
  allow_full_gpu: true
default_group: student
gpu_allocation:
  reservation_ttl_s: 600
  lock_timeout_s: 900
`;

type Alloc = { user: string; state: string; gpus: { uuid: string }[] };

/** No slot held twice, nobody over their limit of 2. */
function assertConsistent(allocations: Alloc[]) {
  const holding = allocations.filter((a) => a.state !== 'revoked');
  const uuids = holding.flatMap((a) => a.gpus.map((g) => g.uuid));
  expect(new Set(uuids).size).toBe(uuids.length);
  for (const u of USERS) expect(holding.filter((a) => a.user === u).length).toBeLessThanOrEqual(2);
}

function spawnAll(sb: ReturnType<typeof sandbox>) {
  return Array.from({ length: 40 }, (_, i) => {
    const user = USERS[i % 4] as string;
    return execa(process.execPath, [BIN, 'allocate', '--user', user, '--container', `c${i}-${user}`, '--json'], {
      // The nvidia-smi stand-in is itself a Node script: with 40 of these starting at once on a
      // busy machine it can take longer than the 15 s default to answer (allocation then fails
      // closed, which is right, but not what this test is about).
      env: { ...process.env, ...sb.env, DS01_AS_USER: user, DS01_NVIDIA_SMI_TIMEOUT_MS: '600000' },
      reject: false,
    });
  });
}

describeDocker('concurrent allocation from separate processes', () => {
  // 40 Node processes at once: minutes on a busy 2-core machine. Nothing here asserts speed.
  const LONG = 900_000;
  it('40 allocations at once, 4 users, 4 GPUs: no slot given twice, nobody over the limit, state parses', { timeout: LONG }, async () => {
    const sb = sandbox({ config: CONFIG });
    const results = await Promise.all(spawnAll(sb));
    const outs = results.map((r) => ({ code: r.exitCode, out: JSON.parse(String(r.stdout)) }));
    const granted = outs.filter((o) => o.code === 0).map((o) => o.out);
    const refused = outs.filter((o) => o.code === 1).map((o) => o.out);
    expect(granted.length + refused.length).toBe(40);
    expect(granted).toHaveLength(4);
    expect(new Set(granted.map((g) => g.gpus[0].uuid)).size).toBe(4);
    for (const r of refused) expect(['NO_GPU_AVAILABLE', 'USER_AT_LIMIT']).toContain(r.reason);
    const state = sb.state();
    expect(state.allocations.map((a: { id: string }) => a.id).sort()).toEqual(granted.map((g) => g.reservation).sort());
    assertConsistent(state.allocations);
    expect(sb.events('gpu.allocate')).toHaveLength(4);
    expect(sb.events('gpu.reject')).toHaveLength(36);
  });

  it('the same with processes SIGKILLed at random points: consistent after the next reconcile', { timeout: LONG }, async () => {
    const sb = sandbox({ config: CONFIG.replace('lock_timeout_s: 900', 'lock_timeout_s: 900') });
    const procs = spawnAll(sb);
    const killed = new Set<number>();
    procs.forEach((p, i) => {
      if (i % 2 === 0) return; // half run to the end
      setTimeout(
        () => {
          killed.add(i);
          p.kill('SIGKILL');
        },
        Math.floor(Math.random() * 4000),
      );
    });
    const results = await Promise.all(procs);
    const finished = results.filter((r) => r.exitCode === 0 || r.exitCode === 1);
    expect(finished.length).toBeGreaterThanOrEqual(20);
    const rec = await sb.json(['reconcile']);
    expect(rec.code).toBe(0);
    const state = sb.state();
    assertConsistent(state.allocations);
    // Every allocation a surviving process reported is in the state.
    const ids = new Set(state.allocations.map((a: { id: string }) => a.id));
    for (const r of finished) {
      const out = JSON.parse(String(r.stdout));
      if (out.status === 'allocated') expect(ids.has(out.reservation)).toBe(true);
    }
    // And the allocator still works: status parses and agrees with the state.
    const st = await sb.json(['status']);
    expect(st.out.summary.allocated_slots).toBe(state.allocations.filter((a: Alloc) => a.state !== 'revoked').length);
  });
});
