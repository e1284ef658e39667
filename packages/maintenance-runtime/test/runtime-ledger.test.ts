import { describe, expect, it } from 'vitest';
import { closeLap, type Ledger, observeLap, runtimeMs } from '../src/runtime-ledger.js';

const S = 1_000_000_000_000;
const sec = (n: number) => n * 1000;
const running = (startedAt: number, finishedAt: number | null = null) => ({ startedAt, finishedAt, running: true });
const stopped = (startedAt: number, finishedAt: number) => ({ startedAt, finishedAt, running: false });

function fold(steps: [ReturnType<typeof running>, number][]): { ledger: Ledger | undefined; restarts: number } {
  let ledger: Ledger | undefined;
  let restarts = 0;
  for (const [obs, now] of steps) {
    const u = observeLap(ledger, obs, now);
    ledger = u.ledger;
    if (u.restarted) restarts++;
  }
  return { ledger, restarts };
}

describe('observeLap / runtimeMs', () => {
  it('counts a running lap from StartedAt, in both modes', () => {
    const { ledger } = fold([[running(S), S + sec(10)]]);
    if (!ledger) throw new Error('no ledger');
    expect(runtimeMs(ledger, 'accumulated', S + sec(30))).toBe(sec(30));
    expect(runtimeMs(ledger, 'since_start', S + sec(30))).toBe(sec(30));
  });

  it('adds a lap that ended exactly at FinishedAt to the next one (one restart between runs)', () => {
    const { ledger, restarts } = fold([
      [running(S), S + sec(5)],
      // stopped at +40, restarted at +100; seen at +110: FinishedAt is the end of the first lap
      [running(S + sec(100), S + sec(40)), S + sec(110)],
    ]);
    if (!ledger) throw new Error('no ledger');
    expect(restarts).toBe(1);
    expect(ledger.closedMs).toBe(sec(40));
    expect(runtimeMs(ledger, 'accumulated', S + sec(110))).toBe(sec(40) + sec(10));
    expect(runtimeMs(ledger, 'since_start', S + sec(110))).toBe(sec(10));
  });

  it('closes a lap seen stopped with the same start at its FinishedAt, once', () => {
    const { ledger } = fold([
      [running(S), S + sec(5)],
      [stopped(S, S + sec(20)), S + sec(60)],
      [stopped(S, S + sec(20)), S + sec(120)],
    ]);
    if (!ledger) throw new Error('no ledger');
    expect(runtimeMs(ledger, 'accumulated', S + sec(500))).toBe(sec(20));
    expect(runtimeMs(ledger, 'since_start', S + sec(500))).toBe(0);
  });

  it('counts in full a lap that started and stopped between two runs', () => {
    const { ledger } = fold([
      [stopped(S, S + sec(30)), S + sec(40)],
      [stopped(S + sec(100), S + sec(160)), S + sec(200)],
    ]);
    if (!ledger) throw new Error('no ledger');
    expect(runtimeMs(ledger, 'accumulated', S + sec(300))).toBe(sec(30) + sec(60));
  });

  it('counts a lap whose end Docker forgot up to the last run that saw it running', () => {
    // Seen running at +50; by +200 it was stopped, restarted at +150 and stopped again at +170.
    const { ledger } = fold([
      [running(S), S + sec(50)],
      [stopped(S + sec(150), S + sec(170)), S + sec(200)],
    ]);
    if (!ledger) throw new Error('no ledger');
    expect(runtimeMs(ledger, 'accumulated', S + sec(300))).toBe(sec(50) + sec(20));
  });

  it('counts unseen laps between two runs as running up to the FinishedAt Docker reports', () => {
    // Seen running at +10; then stop +20, start +30, stop +40, start +50; seen at +60.
    const { ledger } = fold([
      [running(S), S + sec(10)],
      [running(S + sec(50), S + sec(40)), S + sec(60)],
    ]);
    if (!ledger) throw new Error('no ledger');
    // Docker only reports the stop at +40: the stopped 10 s in between are counted (at most one interval).
    expect(runtimeMs(ledger, 'accumulated', S + sec(60))).toBe(sec(40) + sec(10));
  });

  it('ignores a container that never started, and a stop recorded by the job itself is kept', () => {
    expect(observeLap(undefined, { startedAt: null, finishedAt: null, running: false }, S).ledger).toBeUndefined();
    const { ledger } = fold([[running(S), S + sec(5)]]);
    if (!ledger) throw new Error('no ledger');
    const closed = closeLap(ledger, S + sec(12));
    expect(runtimeMs(closed, 'accumulated', S + sec(100))).toBe(sec(12));
    // The next run sees the same stop: nothing changes.
    const again = observeLap(closed, stopped(S, S + sec(12)), S + sec(100));
    expect(again).toEqual({ ledger: closed, restarted: false });
  });
});
