import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readEvents } from '../src/index.js';
import { listLogFiles, parseEventLine } from '../src/read/index.js';
import { tempDir } from './helpers/tmp.js';

const v2 = (ts: string, type: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    timestamp: ts,
    event_type: type,
    schema_version: '2',
    id: `id-${ts}`,
    host: 'h',
    pid: 1,
    actor: { uid: 0, user: 'root' },
    ...extra,
  });
const v1 = (ts: string, type: string, details: Record<string, unknown>) =>
  JSON.stringify({ timestamp: ts, event_type: type, schema_version: '1', user: 'alice', details });
const legacy = (ts: string, event: string) => JSON.stringify({ ts, event, user: 'bob', container: 'old-box', gpu: 1 });

async function collect(options: Parameters<typeof readEvents>[0]) {
  const reader = readEvents(options);
  const out: { type: string; ts: string; user?: string; details?: unknown }[] = [];
  for await (const { event } of reader) out.push({ type: event.event_type, ts: event.timestamp, user: event.user, details: event.details });
  return { out, skipped: reader.skipped };
}

describe('reading the event log', () => {
  it('reads v1, legacy and v2 records mixed, and skips a torn line and garbage without hiding later events', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const torn = v2('2026-01-01T00:00:02.000Z', 'gpu.allocate').slice(0, 40);
    fs.writeFileSync(
      file,
      [
        v1('2026-01-01T00:00:00.123456Z', 'container.create', { container: 'a', gpu: 0 }),
        legacy('2026-01-01T00:00:01Z', 'container.created'),
        torn + v2('2026-01-01T00:00:03.000Z', 'gpu.release'), // torn write followed by a full event on one line
        'this is not json',
        '{"timestamp": "2026-01-01T00:00:04Z"}',
        '',
        v2('2026-01-01T00:00:05.000Z', 'gpu.reject', { user: 'carol', details: { reason: 'USER_AT_LIMIT', requested: 1 } }),
        '{"timestamp":"2026-01-01T00:00:06Z","event_type":"gpu.allocate","schema_version":"1","details":{"ratio":NaN,"x":Infinity}}',
      ].join('\n'),
    );
    const { out, skipped } = await collect({ file });
    expect(out.map((e) => e.type)).toEqual(['container.create', 'container.created', 'gpu.release', 'gpu.reject', 'gpu.allocate']);
    expect(out[1]).toMatchObject({ user: 'bob', ts: '2026-01-01T00:00:01Z', details: { container: 'old-box', gpu: 1 } });
    expect(out[4]?.details).toEqual({ ratio: null, x: null });
    expect(skipped).toBe(2);
  });

  it('reads rotated plain and .gz siblings oldest first, then the live file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const write = (name: string, body: string, gz: boolean, mtimeS: number) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, gz ? gzipSync(body) : body);
      fs.utimesSync(p, mtimeS, mtimeS);
    };
    write('events.jsonl-20260101.gz', `${v2('2026-01-01T10:00:00.000Z', 'a.one')}\n`, true, 1_767_300_000);
    write('events.jsonl-20260102.gz', `${v2('2026-01-02T10:00:00.000Z', 'a.two')}\n`, true, 1_767_400_000);
    write('events.jsonl-20260103', `${v2('2026-01-03T10:00:00.000Z', 'a.three')}\n`, false, 1_767_500_000);
    write('events.jsonl', `${v2('2026-01-04T10:00:00.000Z', 'a.four')}\n`, false, 1_767_600_000);
    write('events.jsonl.bak', `${v2('2026-01-05T10:00:00.000Z', 'not.mine')}\n`, false, 1_767_700_000);
    expect(listLogFiles(file).map((f) => path.basename(f.path))).toEqual([
      'events.jsonl-20260101.gz',
      'events.jsonl-20260102.gz',
      'events.jsonl-20260103',
      'events.jsonl',
    ]);
    expect((await collect({ file })).out.map((e) => e.type)).toEqual(['a.one', 'a.two', 'a.three', 'a.four']);
    // numbered rotation: higher number is older
    const dir2 = tempDir();
    const f2 = path.join(dir2, 'events.jsonl');
    fs.writeFileSync(`${f2}.2.gz`, gzipSync(`${v2('2026-01-01T00:00:00.000Z', 'n.two')}\n`));
    fs.writeFileSync(`${f2}.1`, `${v2('2026-01-02T00:00:00.000Z', 'n.one')}\n`);
    fs.writeFileSync(f2, `${v2('2026-01-03T00:00:00.000Z', 'n.live')}\n`);
    const t = Date.now() / 1000;
    fs.utimesSync(`${f2}.2.gz`, t - 200, t - 200);
    fs.utimesSync(`${f2}.1`, t - 100, t - 100);
    expect((await collect({ file: f2 })).out.map((e) => e.type)).toEqual(['n.two', 'n.one', 'n.live']);
  });

  it('compares times as instants whatever their precision or zone, and skips files older than --since', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(`${file}.1`, `${v2('2025-06-01T00:00:00.000Z', 'old.one')}\n`);
    fs.utimesSync(`${file}.1`, 1_748_736_000, 1_748_736_000); // 2025-06-01: all of it is older than since
    fs.writeFileSync(
      file,
      [
        v1('2026-03-01T09:59:59.999999Z', 'x.before', {}),
        v1('2026-03-01T10:00:00Z', 'x.edge', {}),
        JSON.stringify({ timestamp: '2026-03-01T11:30:00+01:00', event_type: 'x.offset', schema_version: '1' }),
        v1('2026-03-01T10:45:00.5Z', 'x.late', {}),
      ].join('\n'),
    );
    const since = Date.parse('2026-03-01T10:00:00Z');
    const until = Date.parse('2026-03-01T10:30:00Z');
    const { out } = await collect({ file, since, until });
    expect(out.map((e) => e.type)).toEqual(['x.edge', 'x.offset']);
  });

  it('applies a substring prefilter and a predicate', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    fs.writeFileSync(
      file,
      [
        v2('2026-01-01T00:00:00.000Z', 'gpu.reject'),
        v2('2026-01-01T00:00:01.000Z', 'gpu.allocate'),
        v2('2026-01-01T00:00:02.000Z', 'gpu.reject', { user: 'x' }),
      ].join('\n'),
    );
    const { out } = await collect({ file, anyOf: ['gpu.reject'], where: (e) => e.user === 'x' });
    expect(out.map((e) => e.ts)).toEqual(['2026-01-01T00:00:02.000Z']);
  });

  it('yields nothing for a missing log', async () => {
    const { out, skipped } = await collect({ file: path.join(tempDir(), 'none.jsonl') });
    expect(out).toEqual([]);
    expect(skipped).toBe(0);
  });

  it('parseEventLine rejects records without a type or time', () => {
    expect(parseEventLine('{"foo":1}')).toBeNull();
    expect(parseEventLine('[1,2]')).toBeNull();
    expect(parseEventLine('   ')).toBeNull();
  });
});
