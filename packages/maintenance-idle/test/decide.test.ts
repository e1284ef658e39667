import { describe, expect, it } from 'vitest';
import { decideIdle, type IdleRules, type Observation } from '../src/decide.js';
import type { ContainerEntry } from '../src/idle-state.js';

const S = 1000;
const rules: IdleRules = {
  thresholds: { gpu: 5, cpu: 2, network: 1_048_576 },
  timeoutMs: 100 * S,
  graceMs: 0,
  leadMs: 10 * S,
  keepAliveMaxMs: 50 * S,
  exempt: false,
};
const obs = (now: number, extra: Partial<Observation> = {}): Observation => ({
  now,
  name: 'train',
  user: 'alice',
  startedAt: 0,
  cpuNs: 0,
  netBytes: 0,
  gpuProcesses: 0,
  gpuUtil: null,
  execs: 0,
  keepAliveMtime: null,
  ...extra,
});

/** Feeds observations in order; returns each decision. */
function series(observations: Observation[], r: IdleRules = rules) {
  let entry: ContainerEntry | undefined;
  return observations.map((o) => {
    const d = decideIdle(entry, o, r);
    entry = d.entry;
    return d;
  });
}

describe('decideIdle', () => {
  it('takes the first sample as a baseline (activity), then measures idle time from it', () => {
    const [a, b] = series([obs(10 * S), obs(60 * S)]);
    expect(a?.status).toBe('baseline');
    expect(b).toMatchObject({ status: 'idle', idleMs: 50 * S, action: 'none' });
  });

  it('turns counter deltas into CPU % of one core and network bytes per interval', () => {
    const [, b] = series([obs(0), obs(10 * S, { cpuNs: 0.5e9, netBytes: 2_000_000 })]);
    expect(b?.sample).toMatchObject({ cpu_pct: 5, net_bytes: 2_000_000, active: ['cpu', 'network'] });
    expect(b?.status).toBe('active');
  });

  it('treats values at the CPU and network thresholds as idle, and GPU utilisation at its threshold as busy', () => {
    const [, b] = series([obs(0), obs(10 * S, { cpuNs: 0.2e9, netBytes: 1_048_576, gpuUtil: 5 })]);
    expect(b?.sample.active).toEqual(['gpu_util']);
  });

  it('ignores a counter that went backwards (a reset) instead of reading it as activity', () => {
    const [, b] = series([obs(0, { cpuNs: 5e9 }), obs(10 * S, { cpuNs: 1e9 })]);
    expect(b?.sample.cpu_pct).toBeNull();
    expect(b?.status).toBe('idle');
  });

  it('warns at 80 % and 95 %, then stops only after the lead time', () => {
    const d = series([obs(0), obs(81 * S), obs(96 * S), obs(101 * S), obs(106 * S)]);
    expect(d.map((x) => x.action)).toEqual(['none', 'first', 'final', 'none', 'stop']);
  });

  it('forgets warnings once the container is active again', () => {
    const d = series([obs(0), obs(96 * S), obs(97 * S, { execs: 1 }), obs(150 * S)]);
    expect(d.map((x) => x.action)).toEqual(['none', 'final', 'none', 'none']);
    expect(d[3]?.entry.warnings.final_at).toBeNull();
  });

  it('starts a new baseline when StartedAt changed (a restart), dropping old warnings', () => {
    const d = series([obs(0), obs(96 * S), obs(120 * S, { startedAt: 110 * S })]);
    expect(d[2]).toMatchObject({ status: 'baseline', restarted: true, action: 'none' });
    expect(d[2]?.entry.warnings.final_at).toBeNull();
  });

  it('caps a keep-alive file at keepalive_max past the due time however often it is touched', () => {
    const d = series([obs(0), obs(90 * S, { keepAliveMtime: 89 * S }), obs(200 * S, { keepAliveMtime: 199 * S })]);
    expect(d[1]?.keepAliveUntil).toBe(139 * S);
    expect(d[1]?.keepAliveReport).toEqual({ until: 139 * S });
    // due 100 s + 50 s at most, although touched at 199 s
    expect(d[2]?.keepAliveUntil).toBe(150 * S);
    expect(d[2]?.action).toBe('final');
  });

  it('never plans a stop inside the start-up grace', () => {
    const d = series([obs(0), obs(150 * S)], { ...rules, graceMs: 300 * S });
    expect(d[1]?.plan?.dueAt).toBe(300 * S);
    expect(d[1]?.action).toBe('none');
  });

  it('notifies an exempt owner once and never stops', () => {
    const d = series([obs(0), obs(90 * S), obs(200 * S), obs(400 * S)], { ...rules, exempt: true });
    expect(d.map((x) => x.action)).toEqual(['none', 'exempt_notice', 'none', 'none']);
  });

  it('does nothing without a timeout', () => {
    const d = series([obs(0), obs(1000 * S)], { ...rules, timeoutMs: null });
    expect(d[1]).toMatchObject({ status: 'no_timeout', action: 'none' });
  });
});
