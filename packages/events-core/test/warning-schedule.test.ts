import { describe, expect, it } from 'vitest';
import { planWarnings } from '../src/jobs/index.js';

const MIN = 60_000;
// 30-minute limit from t=0, warnings at 80 % and 95 %, 10-minute lead.
const base = { since: 0, limitMs: 30 * MIN, firstFraction: 0.8, finalFraction: 0.95, leadMs: 10 * MIN };

describe('planWarnings', () => {
  it('does nothing before the first warning point', () => {
    const p = planWarnings({ ...base, now: 23 * MIN, sent: {} });
    expect(p.step).toBe('none');
    expect(p.firstWarningAt).toBe(24 * MIN);
    expect(p.finalWarningAt).toBe(28.5 * MIN);
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
    expect(p.firstWarningAt).toBe(54 * MIN);
  });

  it('keeps warnings when the due time moves earlier (the lead still protects)', () => {
    const p = planWarnings({ ...base, limitMs: 15 * MIN, now: 20 * MIN, sent: { firstAt: 12 * MIN, dueAt: 30 * MIN } });
    expect(p.rearmed).toBe(false);
    expect(p.step).toBe('final');
    expect(p.actAt).toBe(30 * MIN);
  });
});
