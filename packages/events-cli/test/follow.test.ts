import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { appendLog, BIN, jqLines, TZ, tempDir, v2, writeLog } from './helpers/fixtures.js';

let n = 0;
const ev = (type: string, user = 'alice') => v2(new Date().toISOString(), type, { user, details: { n: ++n } });

/** Starts `ds01-events --follow`, collecting stdout; `until` waits for output to satisfy a condition. */
function follow(file: string, args: string[]) {
  const child = execa(process.execPath, [BIN, '--follow', '--file', file, ...args], { env: { TZ }, reject: false, buffer: false });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const until = async (what: string, test: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; stdout:\n${out}\nstderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const lines = () => out.split('\n').filter(Boolean);
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    until,
    ready: () => until('the follow banner', () => err.includes('following')),
    lineCount: (k: number) => until(`${k} lines`, () => lines().length >= k),
  };
}

const nums = async (stdout: string) => (await jqLines(stdout)).map((e) => (e.details as { n: number }).n);

// Spawned processes under a loaded CI machine: generous limits (waits, not timed assertions).
const SLOW = 90_000;

describe('--follow', () => {
  it(
    'prints the backlog, then new matching events, through copytruncate and rename rotation, and stops cleanly on SIGTERM',
    async () => {
      const dir = tempDir();
      const live = path.join(dir, 'events.jsonl');
      writeLog(live, [ev('gpu.allocate'), ev('container.create'), ev('gpu.release'), ev('gpu.reject')]); // n 1..4
      const f = follow(live, ['--json', '--type', 'gpu', '--limit', '2']);
      await f.ready();
      await f.lineCount(2);
      expect(await nums(f.stdout())).toEqual([3, 4]);

      appendLog(live, [ev('gpu.allocate'), ev('auth.denied'), 'not json at all', ev('gpu.release')]); // 5, 6, 7
      await f.lineCount(4);

      // copytruncate: logrotate copies the file, then truncates it in place.
      fs.copyFileSync(live, path.join(dir, 'events.jsonl-20260101'));
      fs.truncateSync(live, 0);
      appendLog(live, [ev('gpu.allocate')]); // 8
      await f.lineCount(5);

      // rename rotation: a writer still holding the old file finishes its line there, then the new file starts,
      // and a slow writer that has not noticed the rename yet appends to the old file once more.
      const old = path.join(dir, 'events.jsonl.1');
      fs.renameSync(live, old);
      appendLog(old, [ev('gpu.release')]); // 9
      await new Promise((r) => setTimeout(r, 300));
      writeLog(live, [ev('container.create'), ev('gpu.reject', 'bob')]); // 10, 11
      appendLog(old, [ev('gpu.allocate')]); // 12, late, into the renamed file
      await f.lineCount(8);
      appendLog(live, [ev('gpu.allocate')]); // 13
      await f.lineCount(9);

      f.child.kill('SIGTERM');
      const result = await f.child;
      expect(result.exitCode).toBe(0);
      expect((await nums(f.stdout())).sort((a, b) => a - b)).toEqual([3, 4, 5, 7, 8, 9, 11, 12, 13]);
      expect(f.stderr()).toContain('skipped 1 malformed line');
    },
    SLOW,
  );

  it(
    '--no-backlog prints only what comes after, honours every filter, and keeps table rows aligned',
    async () => {
      const dir = tempDir();
      const live = path.join(dir, 'events.jsonl');
      writeLog(live, [ev('gpu.allocate', 'bob')]);
      const f = follow(live, ['--no-backlog', '--user', 'bob', '--type', 'gpu.*', '--output', 'type,user,details.n']);
      await f.ready();
      appendLog(live, [
        ev('gpu.reject', 'alice'),
        ev('gpu.reject', 'bob'),
        ev('container.remove', 'bob'),
        ev('gpu.allocation_lock_timeout', 'bob'),
      ]);
      await f.lineCount(3);
      f.child.kill('SIGINT');
      expect((await f.child).exitCode).toBe(0);
      const rows = f.lines();
      expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['TYPE', 'gpu.reject', 'gpu.allocation_lock_timeout']);
      const userCol = rows.map((r) => r.indexOf(r.includes('bob') ? 'bob' : 'USER'));
      expect(new Set(userCol).size).toBe(1);
    },
    SLOW,
  );

  it(
    'waits for a log that does not exist yet, without creating it',
    async () => {
      const dir = tempDir();
      const live = path.join(dir, 'events.jsonl');
      const f = follow(live, ['--json']);
      await f.ready();
      await new Promise((r) => setTimeout(r, 300));
      expect(fs.existsSync(live)).toBe(false);
      writeLog(live, [ev('gpu.allocate')]);
      await f.lineCount(1);
      f.child.kill('SIGTERM');
      expect((await f.child).exitCode).toBe(0);
      expect(await jqLines(f.stdout())).toHaveLength(1);
    },
    SLOW,
  );
});
