import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildFilter } from '../src/build-filter.js';
import { backwardChunks } from '../src/read/chunks.js';
import { findOffset } from '../src/read/find-offset.js';
import { quickTime } from '../src/read/hit.js';
import { cli, jqLines, tempDir, v1, v2, writeLog } from './helpers/fixtures.js';

const HOUR = 3_600_000;
const nOf = (events: Record<string, unknown>[]) => events.map((e) => (e.details as { n: number }).n);

describe('rotated and compressed logs', () => {
  it('reads .N, dateext and .gz siblings in order, so --since 3d covers three days', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const now = Date.now();
    const ev = (ageH: number, n: number) =>
      v2(new Date(now - ageH * HOUR).toISOString(), 'gpu.allocate', { user: 'alice', details: { n } });
    const put = (name: string, lines: string[], ageH: number, gz = false) => {
      const body = `${lines.join('\n')}\n`;
      const file = path.join(dir, name);
      fs.writeFileSync(file, gz ? gzipSync(body) : body);
      const t = new Date(now - ageH * HOUR);
      fs.utimesSync(file, t, t);
    };
    put('events.jsonl-20260101.gz', [ev(100, 1), ev(99, 2)], 99, true); // older than 3 days: not even opened
    put('events.jsonl-20260102.gz', [ev(80, 3), ev(70, 4)], 70, true);
    put('events.jsonl-20260103', [ev(50, 5), ev(30, 6)], 30);
    put('events.jsonl.1', [ev(20, 7), ev(10, 8)], 10);
    writeLog(live, [ev(2, 9), ev(1, 10)]);
    fs.writeFileSync(path.join(dir, 'events.jsonl.bak'), `${ev(5, 99)}\n`); // not a rotation name
    expect(nOf(await jqLines((await cli(['--json', '--all'], live)).stdout))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(nOf(await jqLines((await cli(['--json', '--since', '3d'], live)).stdout))).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(nOf(await jqLines((await cli(['--json', '--limit', '5'], live)).stdout))).toEqual([6, 7, 8, 9, 10]);
    expect(nOf(await jqLines((await cli(['--json', '--limit', '9', '--reverse'], live)).stdout))).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2]);
    expect(nOf(await jqLines((await cli(['--json', '--until', '60h', '--all'], live)).stdout))).toEqual([1, 2, 3, 4]);
    expect((await cli(['--count', '--since', '3d', '--until', '1d'], live)).stdout).toBe('3');
  });

  it('reads a truncated .gz archive up to where it breaks', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const lines = Array.from({ length: 2000 }, (_, i) =>
      v2(new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000).toISOString(), 'gpu.allocate', { details: { n: i } }),
    );
    const gz = gzipSync(`${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'events.jsonl.1.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeLog(live, [v2('2026-01-02T00:00:00.000Z', 'gpu.release', { details: { n: -1 } })]);
    const r = await cli(['--json', '--all'], live);
    expect(r.exitCode).toBe(0);
    const out = nOf(await jqLines(r.stdout));
    expect(out.length).toBeGreaterThan(10);
    expect(out.length).toBeLessThan(2001);
    expect(out.at(-1)).toBe(-1);
  });

  it('merges several --file logs by time', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    const at = (m: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + m * 60_000).toISOString();
    writeLog(a, [v2(at(1), 'gpu.allocate', { details: { n: 1 } }), v2(at(4), 'gpu.allocate', { details: { n: 4 } })]);
    writeLog(b, [v2(at(2), 'gpu.allocate', { details: { n: 2 } }), v2(at(3), 'gpu.allocate', { details: { n: 3 } })]);
    expect(nOf(await jqLines((await cli(['--json', '--all', '--file', a, '--file', b], null)).stdout))).toEqual([1, 2, 3, 4]);
    expect(nOf(await jqLines((await cli(['--json', '--limit', '3', '--file', `${a},${b}`], null)).stdout))).toEqual([2, 3, 4]);
  });
});

describe('the fast paths find what a full scan finds', () => {
  function bigLog(count: number, jitter: (i: number) => number): { file: string; times: number[] } {
    const file = path.join(tempDir(), 'events.jsonl');
    const base = Date.parse('2026-01-01T00:00:00Z');
    const times: number[] = [];
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const t = base + i * 60_000 + jitter(i);
      times.push(t);
      const type = i % 7 === 0 ? 'gpu.reject' : 'container.create';
      lines.push(
        i % 101 === 0
          ? v1(new Date(t).toISOString(), type, 'bob', { n: i })
          : v2(new Date(t).toISOString(), type, { user: 'alice', details: { n: i, pad: 'x'.repeat(i % 300) } }),
      );
      if (i % 997 === 0) lines.push('garbage line');
    }
    writeLog(file, lines);
    return { file, times };
  }

  it('--since (binary search) and --limit (read from the end) agree with a naive filter, with lines slightly out of order', async () => {
    // Up to 2 minutes out of order: writers stamp before they append.
    const { file, times } = bigLog(6000, (i) => ((i * 7919) % 5) * 30_000 - 60_000);
    for (const k of [0, 1, 1500, 4321, 5998, 6500]) {
      const since = Date.parse('2026-01-01T00:00:00Z') + k * 60_000;
      const expected = times
        .map((t, i) => [t, i] as const)
        .filter(([t]) => t >= since)
        .map(([, i]) => i);
      const got = nOf(await jqLines((await cli(['--json', '--all', '--since', new Date(since).toISOString()], file)).stdout));
      expect(got).toEqual(expected);
      const newest = nOf(await jqLines((await cli(['--json', '--limit', '20', '--since', new Date(since).toISOString()], file)).stdout));
      expect(newest).toEqual(expected.slice(-20));
    }
    const tail = nOf(await jqLines((await cli(['--json', '--limit', '30', '--type', 'gpu.reject'], file)).stdout));
    const rejects = times.map((_, i) => i).filter((i) => i % 7 === 0);
    expect(tail).toEqual(rejects.slice(-30));
    const count = await cli(['--count', '--type', 'gpu.reject'], file);
    expect(count.stdout).toBe(String(rejects.length));
    expect(count.stderr).toBe(''); // garbage lines never contain the needle, so are never parsed
    const all = await cli(['--count'], file);
    expect(all.stdout).toBe('6000');
    expect(all.stderr).toBe('ds01-events: skipped 7 malformed lines');
  });

  it('findOffset lands on a line start at or before the first event at the target', async () => {
    const { file, times } = bigLog(3000, () => 0);
    const text = fs.readFileSync(file);
    for (const k of [0, 10, 1000, 2999, 4000]) {
      const target = times[0]! + k * 60_000;
      const off = await findOffset(file, target);
      expect(off === 0 || text[off - 1] === 0x0a).toBe(true);
      const before = text
        .subarray(0, off)
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      expect(before.every((l) => Date.parse(JSON.parse(l).timestamp) < target)).toBe(true);
    }
  });

  it('backwardChunks yields every line once, whole, even lines longer than a block, and a last line without newline', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const lines = Array.from({ length: 200 }, (_, i) => `line-${i}-${'y'.repeat((i * 37) % 700)}`);
    fs.writeFileSync(file, lines.join('\n')); // no final newline
    const seen: string[] = [];
    for await (const { buf } of backwardChunks(file, fs.statSync(file).size, 256)) {
      seen.unshift(...buf.toString().split('\n').filter(Boolean));
    }
    expect(seen).toEqual(lines);
  });

  it('buildFilter skips the byte prefilter for values a writer would escape', () => {
    expect(buildFilter({ users: ['zoë'] }).needles).toEqual([]);
    expect(buildFilter({ users: ['alice'], types: ['*'] }).needles.map((g) => g.map(String))).toEqual([['alice"']]);
    expect(buildFilter({ types: ['gpu.*', '*.denied'] }).needles.map((g) => g.map(String))).toEqual([['gpu.', '.denied']]);
  });

  it('--summary and --count (which read the writer line shape from the bytes) agree with the full parse on odd lines', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const ok = v2('2026-01-01T00:00:05.000Z', 'gpu.allocate', { user: 'alice', source: 'ds01-gpu', details: { n: 1 } });
    writeLog(file, [
      ok,
      `${ok.slice(0, 120)}${v2('2026-01-01T00:00:06.000Z', 'gpu.release', { user: 'bob', details: { n: 2 } })}`, // torn + glued
      `${ok.slice(0, 150)}`, // torn at the end
      JSON.stringify({
        timestamp: '2026-01-01T00:00:07Z',
        event_type: 'x.y',
        schema_version: '1',
        user: { odd: 1, details: 2 },
        details: { n: 3 },
      }),
      '{"timestamp":"2026-01-01T00:00:08Z","event_type":"gpu.reject","schema_version":"1","user":"carol","details":{"v":NaN}}',
      JSON.stringify({ ts: '2026-01-01T00:00:09Z', event: 'gpu.rejected', user: 'dave', container: 'c' }),
    ]);
    const full = await jqLines((await cli(['--json', '--all'], file)).stdout);
    const byType: Record<string, number> = {};
    for (const e of full) {
      const t = (e.event_type ?? e.event) as string;
      byType[t] = (byType[t] ?? 0) + 1;
    }
    const [summary] = await jqLines((await cli(['--summary', '--json'], file)).stdout);
    expect(summary?.total).toBe(full.length);
    expect(summary?.by_type).toEqual(Object.fromEntries(Object.entries(byType).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))));
    expect(summary?.by_user).toMatchObject({ alice: 1, bob: 1, carol: 1, dave: 1 });
    expect((await cli(['--count', '--type', 'gpu'], file)).stdout).toBe(
      String(full.filter((e) => String(e.event_type ?? e.event).startsWith('gpu.')).length),
    );
  });

  it('quickTime equals Date.parse for every timestamp shape, and refuses what Date.parse refuses', () => {
    const samples = [
      '2026-01-30T14:59:59.999Z',
      '2026-01-30T15:00:00.000Z',
      '2026-01-30T14:00:00.001Z',
      '2024-02-29T23:59:59.500Z',
      '2026-01-30T14:30:00Z',
      '2026-01-30T14:30:00.123456Z',
      '2026-01-30T14:30:00.123+01:00',
      '2026-01-30T14:30:00.12Z',
      '2026-01-30T14:61:00.000Z',
      '2026-01-30T14:3a:00.000Z',
      'xxxx-01-30T14:30:00.000Z',
      'not a time at all here!!',
    ];
    for (const ts of samples) expect([ts, quickTime(ts)]).toEqual([ts, Date.parse(ts)]);
  });
});
