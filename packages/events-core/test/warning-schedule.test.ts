import { describe, expect, it } from 'vitest';
import { planWarnings } from '../src/jobs/index.js';

const MIN = 60_000;
// 30-minute limit from t=0, warnings at 80 % and 95 %, 10-minute lead.
const base = { since: 0, limitMs: 30 * MIN, firstFraction: 0.8, finalFraction: 0.95, leadMs: 10 * MIN };

describe('planWarnings', () => {
  it('does nothing before the first warning point, which comes at least the lead before the final one', () => {
    const p = planWarnings({ ...base, now: 18 * MIN, sent: {} });
    expect(p.step).toBe('none');
    // 80 % would be 24 min, only 4.5 min before the final warning at 28.5: moved to 28.5 - 10.
    expect(p.firstWarningAt).toBe(18.5 * MIN);
    expect(p.finalWarningAt).toBe(28.5 * MIN);
    const long = planWarnings({ ...base, limitMs: 10 * 60 * MIN, now: 0, sent: {} });
    expect(long.firstWarningAt).toBe(480 * MIN);
  });

  it('with a job every 5 minutes, whatever its phase, sends the first warning, then the final one, then acts', () => {
    for (let phase = 0; phase < 5; phase++) {
      const sent: { firstAt?: number; finalAt?: number; dueAt?: number } = {};
      const steps: string[] = [];
      for (let now = phase * MIN; now < 120 * MIN; now += 5 * MIN) {
        const p = planWarnings({ ...base, now, sent });
        if (p.step === 'first') Object.assign(sent, { firstAt: now, dueAt: p.dueAt });
        if (p.step === 'final') Object.assign(sent, { finalAt: now, dueAt: p.dueAt });
        if (p.step !== 'none' && p.step !== 'wait') steps.push(p.step);
        if (p.step === 'act') break;
      }
      expect(steps, `phase ${phase} min`).toEqual(['first', 'final', 'act']);
    }
  });

  it('sends the first warning with a projected action time that honours the lead', () => {
    const p = planWarnings({ ...base, now: 25 * MIN, sent: {} });
    expect(p.step).toBe('first');
    expect(p.actAt).toBe(38.5 * MIN);
  });

  it('sends only the final warning (never two notices in one run) when the first point was missed', () => {
    const p = planWarnings({ ...base, now: 45 * MIN, sent: {} });
    expect(p.step).toBe('final');
    expect(p.actAt).toBe(55 * MIN);
  });

  it('never acts until the final warning has been out for the lead time', () => {
    const sent = { firstAt: 25 * MIN, finalAt: 29 * MIN, dueAt: 30 * MIN };
    expect(planWarnings({ ...base, now: 35 * MIN, sent }).step).toBe('wait');
    const p = planWarnings({ ...base, now: 39 * MIN, sent });
    expect(p.step).toBe('act');
    expect(p.actAt).toBe(39 * MIN);
  });

  it('acts at the due time when the final warning went out early enough', () => {
    const p = planWarnings({ ...base, leadMs: 1 * MIN, now: 30 * MIN, sent: { firstAt: 24 * MIN, finalAt: 28.5 * MIN, dueAt: 30 * MIN } });
    expect(p.step).toBe('act');
  });

  it('moves the whole schedule to a later notBefore and re-arms warnings sent for an earlier due time', () => {
    const p = planWarnings({
      ...base,
      now: 40 * MIN,
      notBefore: 60 * MIN,
      sent: { firstAt: 24 * MIN, finalAt: 29 * MIN, dueAt: 30 * MIN },
    });
    expect(p.rearmed).toBe(true);
    expect(p.dueAt).toBe(60 * MIN);
    expect(p.step).toBe('none');
    expect(p.firstWarningAt).toBe(48.5 * MIN);
  });

  it('keeps warnings when the due time moves earlier (the lead still protects)', () => {
    const p = planWarnings({ ...base, limitMs: 15 * MIN, now: 20 * MIN, sent: { firstAt: 12 * MIN, dueAt: 30 * MIN } });
    expect(p.rearmed).toBe(false);
    expect(p.step).toBe('final');
    expect(p.actAt).toBe(30 * MIN);
  });
});
