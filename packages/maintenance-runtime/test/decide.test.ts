import { describe, expect, it } from 'vitest';
import { type DecideInput, decide } from '../src/decide.js';

const MIN = 60_000;
const H = 60 * MIN;
// A 24 h limit, 10-minute lead: first warning at 18 h, final at 21.6 h.
const base: DecideInput = {
  now: 100 * H,
  runtimeMs: 0,
  maxRuntimeH: 24,
  leadMs: 10 * MIN,
  exemption: { exempt: false },
  exemptNotified: false,
  marks: {},
};

describe('decide', () => {
  it('follows the schedule: nothing, first warning at 75 %, final at 90 %, stop at the limit', () => {
    expect(decide({ ...base, runtimeMs: 17 * H }).decision.kind).toBe('ok');
    const first = decide({ ...base, runtimeMs: 18 * H }).decision;
    expect(first).toMatchObject({ kind: 'warn', level: 'first', stopAt: base.now + 6 * H });
    const final = decide({ ...base, runtimeMs: 21.6 * H, marks: { firstAt: 1, dueAt: base.now + 2.4 * H } }).decision;
    expect(final).toMatchObject({ kind: 'warn', level: 'final', stopAt: base.now + 2.4 * H });
    // The final warning went out at 21.6 h; time runs on with the container.
    const marks = { firstAt: 1, finalAt: base.now, dueAt: base.now + 2.4 * H };
    const at = (runtime: number) => decide({ ...base, now: base.now + runtime - 21.6 * H, runtimeMs: runtime, marks }).decision;
    expect(at(24 * H - 1).kind).toBe('wait');
    expect(at(24 * H).kind).toBe('stop');
  });

  it('never stops before the final warning has been out for the lead time', () => {
    // Seen for the first time far past the limit (e.g. limit lowered): a final warning, then a wait.
    const late = decide({ ...base, runtimeMs: 30 * H });
    expect(late.decision).toMatchObject({ kind: 'warn', level: 'final', stopAt: base.now + 10 * MIN });
    const marks = { firstAt: base.now, finalAt: base.now, dueAt: base.now - 6 * H };
    expect(decide({ ...base, now: base.now + 9 * MIN, runtimeMs: 30 * H + 9 * MIN, marks }).decision.kind).toBe('wait');
    expect(decide({ ...base, now: base.now + 10 * MIN, runtimeMs: 30 * H + 10 * MIN, marks }).decision.kind).toBe('stop');
  });

  it('has nothing to do without a limit', () => {
    expect(decide({ ...base, maxRuntimeH: null, runtimeMs: 1000 * H }).decision.kind).toBe('no_limit');
  });

  it('tells an exempt owner once, when the limit is passed, and never stops', () => {
    const exemption = { exempt: true, reason: 'until 2027-01-01T00:00:00.000Z: thesis', expires: Date.UTC(2027, 0, 1) };
    expect(decide({ ...base, exemption, runtimeMs: 20 * H }).decision).toMatchObject({
      kind: 'exempt',
      notify: false,
      limitReached: false,
    });
    expect(decide({ ...base, exemption, runtimeMs: 25 * H }).decision).toMatchObject({ kind: 'exempt', notify: true, limitReached: true });
    expect(decide({ ...base, exemption, runtimeMs: 90 * H, exemptNotified: true }).decision).toMatchObject({
      kind: 'exempt',
      notify: false,
    });
  });

  it('re-arms warnings announced for an earlier stop time (the limit was raised)', () => {
    const marks = { firstAt: 1, finalAt: 2, dueAt: base.now + MIN };
    const { decision, marks: kept } = decide({ ...base, maxRuntimeH: 48, runtimeMs: 24 * H, marks });
    expect(kept).toEqual({});
    expect(decision.kind).toBe('ok');
  });

  it('keeps the warnings over a restart nobody saw, so restarting cannot push the stop back', () => {
    // Final warning sent for a stop at now; the container restarted unseen and lost 2 s of runtime.
    const marks = { firstAt: base.now - H, finalAt: base.now - 20 * MIN, dueAt: base.now };
    const input = { ...base, runtimeMs: 24 * H - 2000, marks };
    expect(decide({ ...input, keepWarnings: true }).decision).toMatchObject({ kind: 'wait', stopAt: base.now + 2000 });
    // Seen as a new schedule instead, it would warn again and wait the full lead once more.
    expect(decide(input).decision).toMatchObject({ kind: 'warn', level: 'final', stopAt: base.now + 10 * MIN });
  });
});
