import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { normaliseRecord } from '@ds01/events-core/read';
import { describe, expect, it } from 'vitest';
import { buildFilter } from '../src/build-filter.js';
import { parseHit, quickTime } from '../src/read/hit.js';
import { closePieces, planPieces } from '../src/read/plan-pieces.js';
import { readEnvelope, spans } from '../src/read/read-envelope.js';
import { tallyRange } from '../src/read/tally-range.js';
import { Summariser } from '../src/summarise.js';
import { cli, legacy, run, tempDir, v1, v2 } from './helpers/fixtures.js';

/** What the JSON.parse path (parseHit, used by every printing mode) reads from a line: null when it skips it. */
function viaParse(line: string): { type: string; user: unknown; source: unknown; time: number } | null {
  const hit = parseHit(line, '', 0);
  return hit ? { type: hit.event.event_type, user: hit.event.user, source: hit.event.source, time: hit.time } : null;
}

/** What readEnvelope reads from a line, or null when it leaves the line to the JSON.parse path. */
function viaBytes(line: string | Buffer): { type: string; user: unknown; source: unknown; time: number } | null {
  const buf = Buffer.isBuffer(line) ? line : Buffer.from(line);
  if (!readEnvelope(buf, 0, buf.length)) return null;
  const text = (s: number, e: number) => (s < 0 ? undefined : buf.toString('utf8', s, e));
  return {
    type: text(spans.typeStart, spans.typeEnd) as string,
    user: text(spans.userStart, spans.userEnd),
    source: text(spans.sourceStart, spans.sourceEnd),
    time: spans.time,
  };
}

const T = '2026-03-10T03:30:00.000Z';

describe('readEnvelope (the byte path of --summary and --count)', () => {
  it('reads the lines events-core and the v1 writer produce, exactly as JSON.parse does', () => {
    const lines = [
      v2(T, 'gpu.allocate', {
        user: 'alice',
        source: 'ds01-gpu',
        details: { container: 'a-1', gpus: [{ uuid: 'GPU-1', slot: '0' }], weight: 1 },
      }),
      v2('2026-03-10T04:59:59.999Z', 'auth.denied', { details: { n: -0.5e-3, ok: true, none: null, big: 1e21, list: [[], {}, [1, [2]]] } }),
      v2(T, 'container.create', { user: 'bob' }),
      v2(T, 'container.create', { source: 'docker-wrapper' }),
      v2(T, 'x.y', { user: '', source: '' }),
      v2(T, 'x.y', { details: { msg: 'say "hi"\n\t\\ é ✓ \u2028 \u0001', 'ke"y': 'v' } }),
      JSON.stringify({ timestamp: T, event_type: 'x.y', schema_version: '2', truncated: { original_bytes: 5000, fields: ['details.a'] } }),
      v1('2026-03-10T03:30:00.123456', 'gpu.reject', 'carol', { reason: 'USER_AT_LIMIT' }, 'ds01-gpu'),
      v1('2026-03-10T03:30:00+01:00', 'gpu.reject', 'carol', {}),
      `${v2(T, 'x.y', { user: 'dave' })} \r`,
      '{"timestamp":"2026-03-10T03:30:00.000Z","event_type":"x.y","schema_version":"2","details" : { "a" : [ 1 , 2 ] } , "id":"z" }',
    ];
    for (const line of lines) {
      const parsed = viaParse(line);
      expect(parsed, line).not.toBeNull();
      expect([line, viaBytes(line)]).toEqual([line, parsed]);
    }
  });

  it('leaves every other line to JSON.parse, whose reading then counts', () => {
    const ok = v2(T, 'gpu.allocate', { user: 'alice', source: 'ds01-gpu', details: { n: 1 } });
    const others = [
      v2(T, 'x.y', { user: 'zoë' }), // non-ASCII in an envelope field
      v2(T, 'x.y', { user: 'a"b' }), // an escape in an envelope field
      ok.replace('"gpu.allocate"', '"gpu.\\u0061llocate"'),
      `${ok.slice(0, -1)},"user":"mallory"}`, // a second user key: JSON.parse keeps the last
      `${ok.slice(0, -1)},"event_type":"x.z"}`,
      `${ok.slice(0, -1)},"\\u0074imestamp":"2027-01-01T00:00:00.000Z"}`,
      JSON.stringify({ timestamp: T, event_type: 'x.y', schema_version: '1', user: { odd: 1 }, details: {} }),
      JSON.stringify({ timestamp: T, event_type: 'x.y', schema_version: '1', user: 'al', source: 7 }),
      JSON.stringify({ event_type: 'x.y', timestamp: T, schema_version: '2' }), // another key order
      '{"timestamp": "2026-03-10T03:30:00.000Z", "event_type": "x.y", "schema_version": "1", "user": "py"}', // Python's separators
      legacy('2026-03-10T03:30:00Z', 'gpu.rejected', 'erin', 'c1'),
      ok.replace('"n":1', '"n":NaN'),
      ok.replace('"n":1', '"n":01'),
      ok.replace('"n":1', '"n":1.'),
      ok.replace('"n":1', '"n":.5'),
      ok.replace('"n":1', '"n":-'),
      ok.replace('"n":1', '"n":1,,"m":2'), // corrupt in the middle, envelope and brace intact
      ok.replace('"n":1', '"n":"a\tb"'), // a raw control character in a string
      ok.replace('"n":1', '"n":"\\x"'),
      ok.replace('"n":1', '"n":"\\u12"'),
      ok.replace('"n":1', '"n":tru'),
      ok.replace('"n":1', `"n":${'['.repeat(70)}${']'.repeat(70)}`), // deeper than the checker goes
      `${ok.slice(0, 120)}${v2(T, 'gpu.release', { user: 'bob' })}`, // torn, then a whole event glued on
      ok.slice(0, 150),
      `${ok}${ok}`,
      `${ok} x`,
      ok.replace(T, 'not a time at all here!!'),
      ok.replace(T, '2026-03-10T03:3a:00.000Z'),
      ok.replace(T, '2026-13-10T03:30:00.000Z'),
      '  ',
      'garbage',
    ];
    for (const line of others) {
      expect([line, viaBytes(line)]).toEqual([line, null]);
    }
    // Those the JSON.parse path can read still count, with what it reads.
    expect(viaParse(others[3] as string)?.user).toBe('mallory');
    expect(viaParse(others[2] as string)?.type).toBe('gpu.allocate');
    expect(viaParse(others[16] as string)).toBeNull();
  });

  it('accepts a line only when JSON.parse does, and then reads the same, under thousands of byte mutations', () => {
    const base = Buffer.from(
      v2(T, 'gpu.allocate', {
        user: 'alice',
        source: 'ds01-gpu',
        details: { c: 'a-1', g: [{ u: 'GPU-1', s: '0' }], w: -1.5e3, t: true, f: false, z: null, m: 'é\\"' },
      }),
    );
    const envelopeEnd = base.indexOf(',"details"');
    const alphabet = Buffer.concat([Buffer.from('"\\{}[],: \t\r0-.eE+un/tfl1a'), Buffer.from([0x01, 0x7f, 0xc3, 0xa9, 0xff])]);
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    for (let round = 0; round < 6000; round++) {
      const line = Buffer.from(base);
      const edits = 1 + rand(3);
      let bytes: Buffer = line;
      for (let k = 0; k < edits; k++) {
        // Mostly after the envelope (where the checker works), sometimes inside it.
        const at = rand(5) === 0 ? rand(bytes.length) : envelopeEnd + rand(bytes.length - envelopeEnd);
        const c = alphabet[rand(alphabet.length)] as number;
        const op = rand(3);
        if (op === 0) bytes[at] = c;
        else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([c]), bytes.subarray(at)]);
        else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      }
      const fast = viaBytes(bytes);
      if (fast === null) continue;
      accepted++;
      // Accepted: strict JSON, read the same way as the JSON.parse path.
      const text = bytes.toString('utf8');
      expect(() => JSON.parse(text), text).not.toThrow();
      expect([text, fast]).toEqual([text, viaParse(text)]);
    }
    // And conversely: a mutation of the details that JSON.parse accepts is accepted.
    for (const details of ['{"a":[1,{"b":[]}]}', '{"a":"\\u00e9\\n"}', '{ "a" : -0 , "b":1E+2}', '{"a":"\\/"}', '{}']) {
      const line = `${base.subarray(0, envelopeEnd)},"details":${details}}`;
      expect(() => JSON.parse(line)).not.toThrow();
      expect([line, viaBytes(line)]).toEqual([line, viaParse(line)]);
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('reads times as quickTime does, across hours read in any order', () => {
    const stamps = [
      '2026-03-10T03:30:00.000Z',
      '2026-03-10T04:00:00.001Z',
      '2026-03-10T03:59:59.999Z',
      '2024-02-29T23:59:59.500Z',
      '2026-03-10T03:30:00.000Z',
      '2026-03-10T03:30:00Z',
      '2026-03-10T03:30:00.123+05:30',
    ];
    for (const ts of stamps) expect([ts, viaBytes(v2(ts, 'x.y'))?.time]).toEqual([ts, quickTime(ts)]);
  });
});

/** A mix of everything a log may hold, spread over local days (New York) and hours, with every kind of odd line. */
function mixedLines(base: number, n: number): string[] {
  const users = ['alice', 'bob', 'carol', 'zoë', ''];
  const types = ['gpu.allocate', 'gpu.reject', 'auth.denied', 'maintenance.idle_kill', 'container.create'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ts = new Date(base + i * 7 * 60_000).toISOString();
    const user = users[i % users.length] as string;
    const type = types[(i * 7) % types.length] as string;
    const o = {
      ...(user ? { user } : {}),
      ...(i % 3 ? { source: i % 2 ? 'ds01-gpu' : 'docker-wrapper' } : {}),
      details: { container: `${user || 'x'}-job`, n: i, note: i % 4 === 0 ? 'naïve "quoted" \\ text' : 'plain' },
    };
    switch (i % 17) {
      case 3:
        lines.push(v1(ts.replace('Z', '123'), type, user || 'nobody', { n: i }));
        break;
      case 5:
        lines.push(legacy(ts, type, user || 'nobody', 'c1'));
        break;
      case 7:
        lines.push('garbage that is not json');
        break;
      case 8:
        lines.push(v2(ts, type, o).replace('"n":', '"n":,')); // corrupt in the middle
        break;
      case 9:
        lines.push(`${v2(ts, type, o).slice(0, 90)}${v2(ts, 'gpu.release', { user: 'bob' })}`); // torn + glued
        break;
      case 10:
        lines.push(v2(ts, type, o).replace(/"n":\d+/, '"n":NaN'));
        break;
      case 11:
        lines.push(`${v2(ts, type, o).slice(0, -1)},"user":"mallory"}`);
        break;
      case 12:
        lines.push(`{"timestamp": "${ts}", "event_type": "${type}", "schema_version": "1", "user": "py"}`);
        break;
      case 13:
        lines.push(`${v2(ts, type, o)}\r`);
        break;
      case 14:
        lines.push('');
        break;
      case 15:
        lines.push(v2(ts, type, o).replace(`"${type}"`, `"${type.replace('a', '\\u0061')}"`));
        break;
      default:
        lines.push(v2(ts, type, o));
    }
  }
  return lines;
}

/** The summary of exactly what the printing path (`--json --all`, JSON.parse for every line) prints. */
async function summaryOfPrinted(args: string[], file: string, utc = false): Promise<ReturnType<Summariser['result']>> {
  const printed = await cli(['--json', '--all', ...args], file);
  const s = new Summariser(utc);
  for (const line of printed.stdout.split('\n').filter(Boolean)) {
    const e = normaliseRecord(JSON.parse(line));
    if (!e) throw new Error(`printed a non-event: ${line}`);
    s.addParts(quickTime(e.timestamp), e.event_type, e.user, e.source);
  }
  return s.result();
}

describe('--summary and --count over mixed, rotated and compressed logs', () => {
  function mixedLog(): string {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const base = Date.parse('2026-03-08T20:00:00.000Z');
    const all = mixedLines(base, 900);
    const put = (name: string, lines: string[], mtime: number, gz = false) => {
      const body = `${lines.join('\n')}\n`;
      const file = path.join(dir, name);
      fs.writeFileSync(file, gz ? gzipSync(body) : body);
      fs.utimesSync(file, new Date(mtime), new Date(mtime));
    };
    const at = (i: number) => base + i * 7 * 60_000 + 1000;
    put('events.jsonl.3.gz', all.slice(0, 200), at(199), true);
    put('events.jsonl-20260310', all.slice(200, 400), at(399));
    put('events.jsonl.1', all.slice(400, 600), at(599));
    // The live file ends with a line still being written (no newline).
    fs.writeFileSync(live, `${all.slice(600, 899).join('\n')}\n${all[899]}`);
    return live;
  }

  it('prints what the JSON.parse path counts, single-threaded, in byte ranges and in worker threads', async () => {
    const live = mixedLog();
    const queries: string[][] = [
      [],
      ['--utc'],
      ['--type', 'gpu,maintenance.*_kill', '--user', 'alice,bob,zoë,mallory'],
      ['--source', 'ds01-gpu', '--since', '2026-03-09T06:00', '--until', '2026-03-11T02:00'],
      ['--container', 'carol-job'],
      ['--type', '!gpu.reject', '--detail', 'note=plain'],
    ];
    for (const q of queries) {
      const expected = await summaryOfPrinted(q, live, q.includes('--utc'));
      expect(expected.total).toBeGreaterThan(5);
      const printedSkips = (await cli(['--json', '--all', ...q], live)).stderr;
      const one = await cli(['--summary', '--json', ...q], live);
      expect([q, JSON.parse(one.stdout)]).toEqual([q, expected]);
      expect(one.stderr).toBe(printedSkips);
      // Byte ranges of about 500 bytes, counted one after another (in-process runs have no worker script).
      const pieces = await cli(['--summary', '--json', ...q], live, { DS01_EVENTS_PIECE_BYTES: '500' });
      expect([q, JSON.parse(pieces.stdout)]).toEqual([q, expected]);
      expect(pieces.stderr).toBe(printedSkips);
      // The built bin with three workers sharing the pieces, and with none.
      const workers = await run(['--summary', '--json', ...q], live, { env: { DS01_EVENTS_PIECE_BYTES: '700', DS01_EVENTS_WORKERS: '3' } });
      expect([q, workers.exitCode, JSON.parse(workers.stdout)]).toEqual([q, 0, expected]);
      expect(workers.stderr).toBe(printedSkips);
      const count = await run(['--count', ...q], live, { env: { DS01_EVENTS_PIECE_BYTES: '700', DS01_EVENTS_WORKERS: '2' } });
      expect([q, count.stdout]).toEqual([q, String(expected.total)]);
    }
    const text = await cli(['--summary'], live);
    const textWorkers = await run(['--summary'], live, { env: { DS01_EVENTS_PIECE_BYTES: '600', DS01_EVENTS_WORKERS: '4' } });
    expect(textWorkers.stdout.trimEnd()).toBe(text.stdout);
    expect(text.stdout).toContain('mallory');
    expect(text.stdout).toContain('zo\u00eb');
  });

  it('stops where one scan stops: an event past --until (and the skew) ends the log, even when later ones fall inside', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const ev = (ts: string, n: number) => v2(ts, 'gpu.allocate', { user: 'alice', details: { n } });
    // The event that stops a single scan is in the first piece: the workers are already counting the next ones.
    const lines = [ev('2026-03-10T10:00:00.000Z', 0), ev('2026-03-10T13:00:00.000Z', 1)];
    for (let i = 0; i < 40; i++) lines.push(i === 20 ? 'garbage' : ev('2026-03-10T10:30:30.000Z', 100 + i));
    fs.writeFileSync(live, `${lines.join('\n')}\n`);
    const args = ['--until', '2026-03-10T10:45:00Z'];
    const printed = await cli(['--json', '--all', ...args], live);
    expect(printed.stdout.split('\n')).toHaveLength(1);
    expect(printed.stderr).toBe('');
    const expected = await summaryOfPrinted(args, live);
    expect(expected.total).toBe(1);
    const inProcess = await cli(['--summary', '--json', ...args], live, { DS01_EVENTS_PIECE_BYTES: '300' });
    expect(JSON.parse(inProcess.stdout)).toEqual(expected);
    const envs: Record<string, string>[] = [
      { DS01_EVENTS_PIECE_BYTES: '300', DS01_EVENTS_WORKERS: '4' },
      { DS01_EVENTS_PIECE_BYTES: '300', DS01_EVENTS_WORKERS: '0' },
      { DS01_EVENTS_WORKERS: '0' },
    ];
    for (const env of envs) {
      const r = await run(['--summary', '--json', ...args], live, { env });
      expect([env, JSON.parse(r.stdout), r.stderr]).toEqual([env, expected, '']);
      expect((await run(['--count', ...args], live, { env })).stdout).toBe('1');
    }
  });

  it('cuts a log into pieces that start and end at line starts and cover it once', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const lines = mixedLines(Date.parse('2026-03-10T00:00:00.000Z'), 300);
    lines[100] = `${v2(T, 'x.y', { details: { long: 'x'.repeat(5000) } })}`; // longer than a piece
    fs.writeFileSync(live, `${lines.join('\n')}\n`);
    const bytes = fs.readFileSync(live);
    for (const size of [1, 64, 999, 4096, bytes.length, bytes.length * 3]) {
      const pieces = await planPieces(live, buildFilter({}), size);
      let at = 0;
      for (const [i, p] of pieces.entries()) {
        expect(p.start).toBe(at);
        expect(p.start === 0 || bytes[p.start - 1] === 0x0a).toBe(true);
        const last = i === pieces.length - 1;
        expect(p.end === undefined).toBe(last);
        if (!last) at = p.end as number;
      }
      if (size >= bytes.length) expect(pieces.length).toBe(1);
      if (size === 999) expect(pieces.length).toBeGreaterThan(20);
      closePieces(pieces);
    }
  });

  it('counts the files that were planned, even when rotation renames them before the pieces are read', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(v2(new Date(Date.parse(T) + i * 1000).toISOString(), 'gpu.allocate', { user: 'alice' }));
    fs.writeFileSync(live, `${lines.join('\n')}\n`);
    const filter = buildFilter({});
    const pieces = await planPieces(live, filter, 1000);
    expect(pieces.length).toBeGreaterThan(4);
    // logrotate's rename: the live file becomes .1 and a new, different one takes its name.
    fs.renameSync(live, `${live}.1`);
    fs.writeFileSync(live, `${v2(T, 'auth.denied', { user: 'bob' })}\n`.repeat(200));
    const s = new Summariser(true);
    const stats = { skipped: 0 };
    try {
      for (const piece of pieces) await tallyRange(piece, s, stats, { filter });
    } finally {
      closePieces(pieces);
    }
    expect(s.result()).toMatchObject({ total: 50, by_type: { 'gpu.allocate': 50 }, by_user: { alice: 50 } });
    expect(stats.skipped).toBe(0);
  });

  it('with --since, cuts only what the binary search left to read, and skips files older than the window', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'events.jsonl');
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(v2(new Date(now - (400 - i) * 60_000).toISOString(), 'x.y', { details: { n: i } }));
    const old = path.join(dir, 'events.jsonl.1');
    fs.writeFileSync(old, `${lines.slice(0, 10).join('\n')}\n`);
    fs.utimesSync(old, new Date(now - 395 * 60_000), new Date(now - 395 * 60_000));
    fs.writeFileSync(live, `${lines.join('\n')}\n`);
    const since = now - 60 * 60_000;
    const pieces = await planPieces(live, buildFilter({ since }), 2000);
    closePieces(pieces);
    expect(pieces.every((p) => p.file.path === live)).toBe(true);
    expect(pieces[0]?.start).toBeGreaterThan(fs.statSync(live).size / 2);
    const r = await run(['--count', '--since', '1h'], live, { env: { DS01_EVENTS_PIECE_BYTES: '2000', DS01_EVENTS_WORKERS: '2' } });
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(59);
    expect(r.stdout).toBe((await cli(['--count', '--since', '1h'], live)).stdout);
  });

  it('adds up several --file logs, each cut into pieces', async () => {
    const a = mixedLog();
    const b = path.join(tempDir(), 'other.jsonl');
    fs.writeFileSync(b, `${mixedLines(Date.parse('2026-03-09T12:00:00.000Z'), 300).join('\n')}\n`);
    const args = ['--file', a, '--file', b, '--type', 'gpu,auth'];
    const expected = await summaryOfPrinted(args, a);
    expect(expected.total).toBeGreaterThan(100);
    const r = await run(['--summary', '--json', ...args], null, { env: { DS01_EVENTS_PIECE_BYTES: '900', DS01_EVENTS_WORKERS: '3' } });
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(r.stderr).toBe((await cli(['--json', '--all', ...args], null)).stderr);
  });

  it('refuses tuning variables that are not whole numbers, naming them', async () => {
    const live = mixedLog();
    const r = await cli(['--summary'], live, { DS01_EVENTS_WORKERS: 'many' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('DS01_EVENTS_WORKERS: "many"');
    expect((await cli(['--count'], live, { DS01_EVENTS_PIECE_BYTES: '0' })).stderr).toContain('DS01_EVENTS_PIECE_BYTES');
  });
});
