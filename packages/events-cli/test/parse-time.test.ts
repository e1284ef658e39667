import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTimeSpec, TimeSpecError } from '../src/parse-time.js';
import { cli, jqLines, TZ, tempDir, v1, v2, writeLog } from './helpers/fixtures.js';

// 2026-03-10 15:30:00 in New York (EDT since 2026-03-08, UTC-4) is 19:30Z.
const now = Date.parse('2026-03-10T19:30:00Z');
const local = { now, utc: false };
const utc = { now, utc: true };

describe('parseTimeSpec (TZ=America/New_York)', () => {
  it('runs in the non-UTC zone', () => {
    expect(process.env.TZ).toBe(TZ);
    expect(new Date(now).getHours()).toBe(15);
  });

  it('reads ISO 8601 with a zone as that instant, whatever --utc says', () => {
    for (const ctx of [local, utc]) {
      expect(parseTimeSpec('2026-03-10T12:00:00Z', ctx)).toBe(Date.parse('2026-03-10T12:00:00Z'));
      expect(parseTimeSpec('2026-03-10T12:00:00+01:00', ctx)).toBe(Date.parse('2026-03-10T11:00:00Z'));
      expect(parseTimeSpec('2026-03-10T12:00:00.123456-0500', ctx)).toBe(Date.parse('2026-03-10T17:00:00.123Z'));
    }
  });

  it('reads zone-less ISO as local time, or UTC with --utc', () => {
    expect(parseTimeSpec('2026-03-10T03:00', local)).toBe(Date.parse('2026-03-10T07:00:00Z'));
    expect(parseTimeSpec('2026-03-10 03:00:00', local)).toBe(Date.parse('2026-03-10T07:00:00Z'));
    expect(parseTimeSpec('2026-01-10T03:00', local)).toBe(Date.parse('2026-01-10T08:00:00Z')); // EST in winter
    expect(parseTimeSpec('2026-03-10', local)).toBe(Date.parse('2026-03-10T04:00:00Z'));
    expect(parseTimeSpec('2026-03-10T03:00', utc)).toBe(Date.parse('2026-03-10T03:00:00Z'));
    expect(parseTimeSpec('2026-03-10', utc)).toBe(Date.parse('2026-03-10T00:00:00Z'));
  });

  it('reads relative spans back from now', () => {
    expect(parseTimeSpec('30m', local)).toBe(now - 30 * 60_000);
    expect(parseTimeSpec('2h', local)).toBe(now - 2 * 3_600_000);
    expect(parseTimeSpec('7d', local)).toBe(now - 7 * 86_400_000);
    expect(parseTimeSpec('-1h', local)).toBe(now - 3_600_000);
    expect(parseTimeSpec('1 hour ago', local)).toBe(now - 3_600_000);
    expect(parseTimeSpec('90 minutes', local)).toBe(now - 90 * 60_000);
  });

  it('reads keywords at local midnight (or UTC midnight with --utc)', () => {
    expect(parseTimeSpec('now', local)).toBe(now);
    expect(parseTimeSpec('today', local)).toBe(Date.parse('2026-03-10T04:00:00Z'));
    expect(parseTimeSpec('yesterday', local)).toBe(Date.parse('2026-03-09T04:00:00Z'));
    // The day DST began (2026-03-08) started in EST.
    expect(parseTimeSpec('yesterday', { now: Date.parse('2026-03-09T12:00:00Z'), utc: false })).toBe(Date.parse('2026-03-08T05:00:00Z'));
    expect(parseTimeSpec('today', utc)).toBe(Date.parse('2026-03-10T00:00:00Z'));
    expect(parseTimeSpec('YESTERDAY', utc)).toBe(Date.parse('2026-03-09T00:00:00Z'));
  });

  it.each(['1', 'h', 'soon', '2026-13-01', '2026-02-30', '2026-03-10T25:00', '1h30', 'last tuesday', ''])('refuses %j', (text) => {
    expect(() => parseTimeSpec(text, local)).toThrow(TimeSpecError);
  });
});

describe('--since/--until compare instants, not strings', () => {
  it('finds events by local time across mixed precisions and zones', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    writeLog(file, [
      v1('2026-03-10T06:59:59.999999Z', 'gpu.allocate', 'alice', { n: 1 }),
      v1('2026-03-10T07:00:00Z', 'gpu.allocate', 'alice', { n: 2 }),
      v2('2026-03-10T07:30:00.000Z', 'gpu.allocate', { user: 'alice', details: { n: 3 } }),
      v1('2026-03-10T04:00:00.5-04:00', 'gpu.allocate', 'alice', { n: 4 }), // 08:00:00.5Z, written with an offset
      v2('2026-03-10T08:00:01.000Z', 'gpu.allocate', { user: 'alice', details: { n: 5 } }),
    ]);
    const n = async (...args: string[]) =>
      (await jqLines((await cli(['--json', '--all', ...args], file)).stdout)).map((e) => (e.details as { n: number }).n);
    // 3am New York is 07:00Z.
    expect(await n('--since', '2026-03-10T03:00', '--until', '2026-03-10T04:00:00.5')).toEqual([2, 3, 4]);
    expect(await n('--since', '2026-03-10T07:00', '--until', '2026-03-10T08:00:00.5', '--utc')).toEqual([2, 3, 4]);
    expect(await n('--until', '2026-03-10T06:59:59.999Z')).toEqual([1]);
    // A dash-led value is the flag's value, not options (`-1h` is not `-1 -h`).
    const now = Date.now();
    writeLog(file, [
      v2(new Date(now - 90 * 60_000).toISOString(), 'gpu.allocate', { details: { n: 6 } }),
      v2(new Date(now - 60_000).toISOString(), 'gpu.allocate', { details: { n: 7 } }),
    ]);
    expect(await n('--since', '-1h')).toEqual([7]);
    expect(await n('--since', '-2h', '--until', '-30m')).toEqual([6]);
  });
});
