import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { validateEvent } from '../src/catalogue.js';
import { closeEventLogs, logEvent, logUncataloguedEvent, MAX_LINE_BYTES, REOPEN_CHECK_MS } from '../src/index.js';
import { helper, isRoot, tempDir, userIds } from './helpers/tmp.js';

const run = promisify(execFile);

function lines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('logEvent', () => {
  let file: string;
  let stderr: MockInstance<typeof process.stderr.write>;
  beforeEach(() => {
    file = path.join(tempDir(), 'log', 'events.jsonl');
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stderr.mockRestore();
    closeEventLogs();
  });

  it('writes one compact v2 line with the OS-stamped envelope and valid details', () => {
    const ok = logEvent('gpu.allocate', {
      user: 'alice',
      source: 'ds01-gpu',
      file,
      details: { container: 'train', gpus: [{ uuid: 'GPU-1', slot: '0', weight: 1 }], weight: 1, usage_after: 1, limit: 2 },
    });
    expect(ok).toBe(true);
    const raw = fs.readFileSync(file, 'utf8');
    expect(raw.endsWith('\n')).toBe(true);
    expect(raw.split('\n')).toHaveLength(2);
    const [event] = lines(file);
    expect(validateEvent(event)).toEqual({ valid: true, errors: [] });
    expect(event).toMatchObject({
      event_type: 'gpu.allocate',
      schema_version: '2',
      user: 'alice',
      source: 'ds01-gpu',
      pid: process.pid,
      actor: { uid: process.getuid?.() },
    });
    expect(event?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // v1 readers look for these keys first; they must still be there.
    expect(Object.keys(event as object).slice(0, 3)).toEqual(['timestamp', 'event_type', 'schema_version']);
  });

  it('creates the directory and file with the documented modes', () => {
    logEvent('container.start', { file, details: { container: 'c' } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o664);
    expect(fs.statSync(path.dirname(file)).mode & 0o7777).toBe(0o2775);
  });

  it('keeps value types as given and makes non-JSON values valid JSON', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    logUncataloguedEvent('test.types', {
      file,
      details: {
        slot: '0',
        padded: '007',
        n: 0,
        ratio: 1.5,
        yes: true,
        nan: Number.NaN,
        inf: -Infinity,
        big: 2n ** 70n,
        circular,
        when: new Date(0),
      },
    });
    const [event] = lines(file);
    expect(event?.details).toEqual({
      slot: '0',
      padded: '007',
      n: 0,
      ratio: 1.5,
      yes: true,
      nan: 'NaN',
      inf: '-Infinity',
      big: '1180591620717411303424',
      circular: { name: 'loop', self: '[Circular]' },
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('shrinks an oversized event field by field, longest first, and keeps the envelope', () => {
    const ok = logUncataloguedEvent('detection.host_gpu_process_discovered', {
      user: 'bob',
      source: 'detector',
      file,
      details: { pid: 4242, cmdline: `python train.py ${'--flag '.repeat(1500)}`, env: 'X'.repeat(3000), gpu_uuid: 'GPU-abc' },
    });
    expect(ok).toBe(true);
    const raw = fs.readFileSync(file, 'utf8').trimEnd();
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    const event = JSON.parse(raw);
    expect(event.details.pid).toBe(4242);
    expect(event.details.gpu_uuid).toBe('GPU-abc');
    expect(event.details.cmdline.startsWith('python train.py')).toBe(true);
    expect(event.truncated.fields).toContain('details.cmdline');
    expect(event.truncated.original_bytes).toBeGreaterThan(MAX_LINE_BYTES);
    expect(event).toMatchObject({ user: 'bob', source: 'detector', event_type: 'detection.host_gpu_process_discovered' });
    expect(event.id).toBeTypeOf('string');
  });

  it('shrinks huge non-string details and a huge user without dropping envelope fields', () => {
    const ok = logUncataloguedEvent('test.big', {
      user: 'u'.repeat(6000),
      file,
      details: { numbers: Array.from({ length: 3000 }, (_, i) => i) },
    });
    expect(ok).toBe(true);
    const [event] = lines(file) as { user: string; details: { numbers: unknown }; truncated: { fields: string[] } }[];
    expect(event?.user.startsWith('uuuu')).toBe(true);
    expect(event?.truncated.fields).toEqual(expect.arrayContaining(['user', 'details.numbers']));
  });

  it('rejects an invalid event type without throwing', () => {
    expect(logUncataloguedEvent('', { file })).toBe(false);
    expect(logUncataloguedEvent('NoDots', { file })).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
    expect(stderr).toHaveBeenCalled();
  });

  it('returns false with one warning when the disk is full, and the process goes on', () => {
    expect(logEvent('container.start', { file: '/dev/full', details: { container: 'c' } })).toBe(false);
    expect(logEvent('container.start', { file: '/dev/full', details: { container: 'c' } })).toBe(false);
    const warnings = stderr.mock.calls.map((c) => String(c[0])).filter((s) => s.includes('/dev/full'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ENOSPC/);
  });

  it('returns false when a directory stands where the file should be, or the path cannot exist', () => {
    fs.mkdirSync(file, { recursive: true });
    expect(logEvent('container.start', { file, details: { container: 'c' } })).toBe(false);
    expect(logEvent('container.start', { file: '/proc/ds01-nope/events.jsonl', details: { container: 'c' } })).toBe(false);
  });

  it('follows the log by path after a rename rotation', async () => {
    logEvent('container.start', { file, details: { container: 'before' } });
    fs.renameSync(file, `${file}.1`);
    // Within the re-check window an event may still land in the rotated file (read as well); after it, never.
    await new Promise((r) => setTimeout(r, REOPEN_CHECK_MS + 20));
    logEvent('container.start', { file, details: { container: 'after' } });
    expect(lines(`${file}.1`).map((e) => (e.details as { container: string }).container)).toEqual(['before']);
    expect(lines(file).map((e) => (e.details as { container: string }).container)).toEqual(['after']);
  });

  it.runIf(isRoot)('returns false for an unwritable directory when run as an unprivileged user', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755); // root-owned, not writable by alice
    const target = path.join(dir, 'sub', 'events.jsonl');
    const { uid, gid } = userIds('alice');
    const { stdout, stderr: err } = await run(process.execPath, [helper('helpers/write-events.mjs'), '3', 'alice'], {
      uid,
      gid,
      env: { ...process.env, DS01_EVENTS_FILE: target },
    });
    expect(stdout).toBe('0');
    expect(err).toMatch(/EACCES/);
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe.runIf(isRoot)('concurrent writers', () => {
  it('8 processes x 5,000 events give exactly 40,000 whole lines, unique ids, each stamped with its writer', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '', { mode: 0o666 });
    fs.chmodSync(file, 0o666);
    const writers = ['alice', 'bob', 'carol', 'dana', 'alice', 'bob', 'carol', 'dana'];
    const results = await Promise.all(
      writers.map((name, i) => {
        const { uid, gid } = userIds(name);
        return run(process.execPath, [helper('helpers/write-events.mjs'), '5000', `${name}${i}`], {
          uid,
          gid,
          env: { ...process.env, DS01_EVENTS_FILE: file },
        });
      }),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array(8).fill('5000'));
    const text = fs.readFileSync(file, 'utf8');
    const all = text.split('\n');
    expect(all.pop()).toBe('');
    expect(all).toHaveLength(40_000);
    const ids = new Set<string>();
    const perTag = new Map<string, number>();
    for (const line of all) {
      const e = JSON.parse(line) as { id: string; user: string; actor: { uid: number; user: string } };
      ids.add(e.id);
      const writer = e.user.replace(/\d+$/, '');
      expect(e.actor).toEqual({ uid: userIds(writer).uid, user: writer });
      perTag.set(e.user, (perTag.get(e.user) ?? 0) + 1);
    }
    expect(ids.size).toBe(40_000);
    expect([...perTag.values()]).toEqual(Array(8).fill(5000));
  }, 120_000);
});

describe('logEvent and the caller’s objects', () => {
  it('never changes the details object it was given, even when it shrinks the event', () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const details = { cmdline: 'x'.repeat(6000), pid: 1 };
    expect(logUncataloguedEvent('test.big', { file, details })).toBe(true);
    expect(details.cmdline).toHaveLength(6000);
    closeEventLogs();
  });
});
