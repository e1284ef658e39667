import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendLog, cli, jqLines, tempDir, v1, v2, writeLog } from './helpers/fixtures.js';

let n = 0;
const at = (m: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + m * 60_000).toISOString();
const ev = (m: number, type = 'gpu.allocate') => v2(at(m), type, { user: 'alice', details: { n: ++n } });
const nums = async (stdout: string) => (await jqLines(stdout)).map((e) => (e.details as { n: number }).n);

describe('--cursor-file', () => {
  it('gives a cron consumer each event exactly once across runs, rotation included', async () => {
    n = 0;
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const cursor = path.join(dir, 'report.cursor');
    writeLog(live, [ev(1), ev(2, 'container.create'), ev(3)]);

    const first = await cli(['--json', '--cursor-file', cursor, '--type', 'gpu'], live);
    expect(first.exitCode).toBe(0);
    expect(await nums(first.stdout)).toEqual([1, 3]);
    const saved = fs.readFileSync(cursor, 'utf8').trim();
    expect(saved).toBe((await jqLines(first.stdout))[1]?.id);

    // Same millisecond as the cursor event and before it in time: order in the file decides.
    appendLog(live, [v2(at(3), 'gpu.release', { details: { n: ++n } }), ev(2), ev(5, 'auth.denied'), ev(6)]);
    const second = await cli(['--json', '--cursor-file', cursor, '--type', 'gpu'], live);
    expect(await nums(second.stdout)).toEqual([4, 5, 7]);

    const third = await cli(['--json', '--cursor-file', cursor, '--type', 'gpu'], live);
    expect([third.stdout, third.exitCode]).toEqual(['', 0]);

    // copytruncate between runs: the cursor event is now in the rotated copy.
    appendLog(live, [ev(8)]);
    fs.copyFileSync(live, `${live}-20260202`);
    fs.truncateSync(live, 0);
    appendLog(live, [ev(9), ev(10)]);
    const fourth = await cli(['--json', '--cursor-file', cursor, '--limit', '2'], live);
    expect(await nums(fourth.stdout)).toEqual([8, 9]); // --limit takes the oldest N after the cursor
    const fifth = await cli(['--json', '--cursor-file', cursor], live);
    expect(await nums(fifth.stdout)).toEqual([10]);
  });

  it('falls back to the timestamp for records without an id, and refuses a garbled cursor file', async () => {
    n = 0;
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const cursor = path.join(dir, 'c');
    writeLog(live, [v1(at(1), 'gpu.allocate', 'bob', { n: 1 }), v1(at(2), 'gpu.allocate', 'bob', { n: 2 })]);
    await cli(['--json', '--cursor-file', cursor], live);
    expect(fs.readFileSync(cursor, 'utf8').trim()).toBe(`@${at(2)}`);
    appendLog(live, [v1(at(3), 'gpu.release', 'bob', { n: 3 })]);
    expect(await nums((await cli(['--json', '--cursor-file', cursor], live)).stdout)).toEqual([3]);

    fs.writeFileSync(cursor, 'not an id\n');
    const bad = await cli(['--json', '--cursor-file', cursor], live);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('does not hold an event id');
    expect(bad.stdout).toBe('');
  });

  it('goes on after the cursor time when its event is gone, and says so', async () => {
    n = 0;
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const cursor = path.join(dir, 'c');
    writeLog(live, [ev(1), ev(2), ev(3)]);
    const lost = v2(at(2), 'gpu.allocate', { details: { n: 99 } });
    fs.writeFileSync(cursor, `${JSON.parse(lost).id}\n`);
    const r = await cli(['--json', '--cursor-file', cursor], live);
    expect(await nums(r.stdout)).toEqual([3]);
    expect(r.stderr).toContain('not found');
  });
});
