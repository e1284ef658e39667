import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, jqLines, legacy, run, tempDir, typesOf, v1, v2, writeLog } from './helpers/fixtures.js';

function sampleLog(): string {
  const file = path.join(tempDir(), 'events.jsonl');
  writeLog(file, [
    v2('2026-03-01T10:00:00.000Z', 'container.create', {
      user: 'alice',
      source: 'docker-wrapper',
      details: { container: 'alice-train', image: 'pytorch' },
    }),
    v2('2026-03-01T10:01:00.000Z', 'gpu.allocate', { user: 'alice', source: 'ds01-gpu', details: { container: 'alice-train', weight: 1 } }),
    v2('2026-03-01T10:02:00.000Z', 'gpu.reject', {
      user: 'bob',
      source: 'ds01-gpu',
      details: { container: 'bob-nb', reason: 'USER_AT_LIMIT', requested: 2 },
    }),
    v2('2026-03-01T10:03:00.000Z', 'gpus.weird', { user: 'bob', source: 'other', details: { container: 'bob-nb' } }),
    v2('2026-03-01T10:04:00.000Z', 'auth.denied', {
      user: 'carol',
      source: 'docker-wrapper',
      host: 'gpu02',
      details: { command: 'stop alice-train' },
    }),
    v2('2026-03-01T10:05:00.000Z', 'maintenance.idle_kill', {
      user: 'alice',
      source: 'ds01-idle',
      details: { container: 'alice-train', idle_minutes: 95 },
    }),
    v2('2026-03-01T10:06:00.000Z', 'maintenance.runtime_kill', { user: 'bob', source: 'ds01-runtime', details: { container: 'bob-nb' } }),
    v2('2026-03-01T10:07:00.000Z', 'maintenance.idle_warning', { user: 'carol', source: 'ds01-idle', details: { container: 'carol-x' } }),
    v2('2026-03-01T10:08:00.000Z', 'gpu.release', {
      user: 'alice',
      source: 'ds01-gpu',
      details: { container: 'alice-train', reason: 'stopped' },
      actor: { uid: 0, user: 'root', as_user: 'dana' },
    }),
  ]);
  return file;
}

const q = async (file: string, ...args: string[]) => {
  const r = await cli([...args, '--json', '--all'], file);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return typesOf(await jqLines(r.stdout));
};

describe('filters', () => {
  it('combines different flags with AND and a comma list (or a repeated flag) with OR', async () => {
    const file = sampleLog();
    expect(await q(file, '--user', 'alice', '--type', 'gpu')).toEqual(['gpu.allocate', 'gpu.release']);
    expect(await q(file, '--user', 'alice,bob', '--type', 'gpu')).toEqual(['gpu.allocate', 'gpu.reject', 'gpu.release']);
    expect(await q(file, '--user', 'alice', '--user', 'carol', '--source', 'ds01-idle')).toEqual([
      'maintenance.idle_kill',
      'maintenance.idle_warning',
    ]);
    expect(await q(file, '--user', 'carol', '--container', 'alice-train')).toEqual([]);
  });

  it('matches types dot-aware with globs and exclusions', async () => {
    const file = sampleLog();
    expect(await q(file, '--type', 'gpu')).toEqual(['gpu.allocate', 'gpu.reject', 'gpu.release']);
    expect(await q(file, '--type', 'gpu.*')).toEqual(['gpu.allocate', 'gpu.reject', 'gpu.release']);
    expect(await q(file, '--type', '*.denied')).toEqual(['auth.denied']);
    expect(await q(file, '--type', 'maintenance.*_kill')).toEqual(['maintenance.idle_kill', 'maintenance.runtime_kill']);
    expect(await q(file, '--type', 'gpus')).toEqual(['gpus.weird']);
    expect(await q(file, '--type', 'maintenance,!maintenance.idle_*')).toEqual(['maintenance.runtime_kill']);
    expect(await q(file, '--type', 'gpu.rej')).toEqual([]);
  });

  it('filters on container, source, actor, host, id and details', async () => {
    const file = sampleLog();
    expect(await q(file, '--container', 'bob-nb')).toEqual(['gpu.reject', 'gpus.weird', 'maintenance.runtime_kill']);
    expect(await q(file, '--source', 'ds01-gpu', '--detail', 'reason=USER_AT_LIMIT')).toEqual(['gpu.reject']);
    expect(await q(file, '--detail', 'requested=2')).toEqual(['gpu.reject']);
    expect(await q(file, '--detail', 'idle_minutes=95', '--detail', 'container=alice-train')).toEqual(['maintenance.idle_kill']);
    expect(await q(file, '--detail', 'reason=stopped,USER_AT_LIMIT')).toEqual(['gpu.reject', 'gpu.release']);
    expect(await q(file, '--actor', 'dana')).toEqual(['gpu.release']);
    expect(await q(file, '--host', 'gpu02')).toEqual(['auth.denied']);
    const all = await jqLines((await cli(['--all', '--json'], file)).stdout);
    const id = all[3]?.id as string;
    expect(await q(file, '--id', id)).toEqual(['gpus.weird']);
  });

  it('treats filter values as data, never as code (quotes, backslashes, non-ASCII)', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    writeLog(file, [
      v2('2026-03-01T10:00:00.000Z', 'gpu.allocate', { user: 'alice' }),
      v2('2026-03-01T10:01:00.000Z', 'gpu.allocate', { user: 'zoë', details: { note: 'say "hi" \\ bye' } }),
    ]);
    expect(await q(file, '--user', 'x" or "a"=="a')).toEqual([]);
    expect(await q(file, '--user', 'zoë')).toEqual(['gpu.allocate']);
    expect(await q(file, '--detail', 'note=say "hi" \\ bye')).toEqual(['gpu.allocate']);
  });

  it('reads v1 and legacy records: legacy top-level container, v1 microseconds', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    writeLog(file, [
      legacy('2026-03-01T09:00:00Z', 'container.created', 'bob', 'old-box'),
      v1('2026-03-01T09:30:00.123456Z', 'gpu.rejected', 'bob', { container: 'old-box', gpu: 0 }),
      v2('2026-03-01T10:00:00.000Z', 'gpu.reject', { user: 'bob', details: { container: 'new-box', reason: 'X', requested: 1 } }),
    ]);
    expect(await q(file, '--container', 'old-box')).toEqual([undefined, 'gpu.rejected']);
    const r = await cli(['--container', 'old-box', '--json'], file);
    const out = await jqLines(r.stdout);
    expect(out[0]).toEqual({ ts: '2026-03-01T09:00:00Z', event: 'container.created', user: 'bob', container: 'old-box', gpu: 1 });
    expect(await q(file, '--type', 'gpu', '--since', '2026-03-01T09:30:00.123Z', '--utc')).toEqual(['gpu.rejected', 'gpu.reject']);
  });

  it('skips malformed lines with one summary on stderr, never hiding later events; --json stays strict JSON', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    writeLog(file, [
      v2('2026-03-01T10:00:00.000Z', 'gpu.allocate', { user: 'alice' }),
      'junk from echo >>',
      '{"timestamp":"2026-03-01T10:00:30Z","event_type":"gpu.allocate","user":"alice"',
      '{"timestamp":"2026-03-01T10:01:00Z","event_type":"gpu.release","schema_version":"1","user":"alice","details":{"util":NaN}}',
      '{"timestamp":"not a time","event_type":"gpu.release"}',
      '',
      v2('2026-03-01T10:02:00.000Z', 'gpu.reject', { user: 'alice' }),
    ]);
    const r = await cli(['--json', '--all'], file);
    expect(r.exitCode).toBe(0);
    expect(r.stderr.trim()).toBe('ds01-events: skipped 3 malformed lines');
    const out = await jqLines(r.stdout);
    expect(typesOf(out)).toEqual(['gpu.allocate', 'gpu.release', 'gpu.reject']);
    expect(out[1]?.details).toEqual({ util: null });
    const table = await cli(['--user', 'alice'], file);
    expect(table.stdout.split('\n').filter(Boolean)).toHaveLength(4);
  });
});

describe('limits, order and modes', () => {
  function manyEvents(n: number): string {
    const file = path.join(tempDir(), 'events.jsonl');
    const base = Date.parse('2026-03-01T00:00:00Z');
    writeLog(
      file,
      Array.from({ length: n }, (_, i) =>
        v2(new Date(base + i * 1000).toISOString(), i % 2 ? 'gpu.allocate' : 'container.create', { user: 'alice', details: { n: i } }),
      ),
    );
    return file;
  }
  const nums = (events: Record<string, unknown>[]) => events.map((e) => (e.details as { n: number }).n);

  it('prints the newest 50 by default, oldest first; --limit, --all, --reverse', async () => {
    const file = manyEvents(120);
    const def = await jqLines((await cli(['--json'], file)).stdout);
    expect(nums(def)).toEqual(Array.from({ length: 50 }, (_, i) => 70 + i));
    expect(nums(await jqLines((await cli(['--json', '--limit', '3'], file)).stdout))).toEqual([117, 118, 119]);
    expect(nums(await jqLines((await cli(['--json', '--limit', '3', '--reverse'], file)).stdout))).toEqual([119, 118, 117]);
    expect(nums(await jqLines((await cli(['--json', '--limit', '2', '--type', 'container'], file)).stdout))).toEqual([116, 118]);
    expect(await jqLines((await cli(['--json', '--all'], file)).stdout)).toHaveLength(120);
    const rev = nums(await jqLines((await cli(['--json', '--all', '--reverse', '--type', 'gpu'], file)).stdout));
    expect(rev).toHaveLength(60);
    expect(rev[0]).toBe(119);
    expect(rev.at(-1)).toBe(1);
  });

  it('counts every match with --count and exits 1 on no match only with --fail-empty', async () => {
    const file = manyEvents(30);
    const c = await cli(['--count', '--type', 'gpu'], file);
    expect(c.stdout).toBe('15');
    const none = await cli(['--type', 'auth', '--json'], file);
    expect([none.exitCode, none.stdout]).toEqual([0, '']);
    const fail = await cli(['--type', 'auth', '--fail-empty'], file);
    expect(fail.exitCode).toBe(1);
    expect(fail.stderr).toContain('no events matched');
    const ok = await cli(['--type', 'gpu', '--fail-empty', '--count'], file);
    expect(ok.exitCode).toBe(0);
  });

  it('selects fields with --output, as table columns or JSON objects', async () => {
    const file = sampleLog();
    const r = await cli(['--output', 'type,user,details.reason', '--type', 'gpu.reject'], file);
    expect(r.stdout.split('\n')).toEqual(['TYPE        USER  REASON', 'gpu.reject  bob   USER_AT_LIMIT']);
    const j = await cli(['--output', 'timestamp,user,details.reason,details.nope', '--type', 'gpu.reject', '--json'], file);
    expect(await jqLines(j.stdout)).toEqual([
      { timestamp: '2026-03-01T10:02:00.000Z', user: 'bob', 'details.reason': 'USER_AT_LIMIT', 'details.nope': null },
    ]);
  });

  it('says so when the log does not exist yet, with nothing on stdout for --json', async () => {
    const file = path.join(tempDir(), 'missing.jsonl');
    const r = await cli(['--json'], file);
    expect([r.exitCode, r.stdout]).toEqual([0, '']);
    expect(r.stderr).toContain('no events logged yet');
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('usage errors', () => {
  it.each([
    [['--limit', 'abc'], '--limit: "abc"'],
    [['--limit', '0'], '--limit: "0"'],
    [['--since', 'garbage'], '--since: cannot read "garbage"'],
    [['--until', '2026-02-31'], '--until: "2026-02-31" is not a valid date'],
    [['--since'], 'Not enough arguments following: since'],
    [['user', 'alice'], 'Unknown arguments: user, alice'],
    [['--bogus'], 'Unknown argument: bogus'],
    [['--detail', 'novalue'], '--detail "novalue"'],
    [['--output', 'time,nonsense'], '--output: unknown field "nonsense"'],
    [['--summary', '--follow'], '--summary and --follow cannot be combined'],
    [['--since', '2026-03-02', '--until', '2026-03-01'], 'is after --until'],
  ])('%j exits 2 naming the flag and value', async (args, message) => {
    const file = sampleLog();
    const r = await cli(args, file);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it('prints help with every kept flag', async () => {
    const r = await run(['--help'], null);
    expect(r.exitCode).toBe(0);
    for (const flag of [
      '--user',
      '--type',
      '--container',
      '--since',
      '--until',
      '--limit',
      '--all',
      '--json',
      '--follow',
      '--summary',
      '--cursor-file',
      '--file',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });
});
