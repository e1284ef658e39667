import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContainerMemory } from '../../src/watch/container-memory.js';
import { dockerTimeParam, eventKey, keyTime, parseDockerEvent } from '../../src/watch/docker-event.js';
import { recoverLoggedKeys } from '../../src/watch/recover-logged-keys.js';
import { signalFromExitCode } from '../../src/watch/signal-name.js';
import { LineSplitter } from '../../src/watch/split-lines.js';
import { loadWatchState, saveWatchState, type WatchState } from '../../src/watch/watch-state.js';

const line =
  '{"status":"die","id":"82fab2fc674a","from":"img","Type":"container","Action":"die","Actor":{"ID":"82fab2fc674a7cf61991894f744bda91","Attributes":{"exitCode":"137","image":"img","name":"oomt","ds01.user":"alice"}},"scope":"local","time":1795997898,"timeNano":1795997898259812559}';

describe('parseDockerEvent', () => {
  it('keeps every digit of timeNano (JSON.parse would round it)', () => {
    const ev = parseDockerEvent(line);
    expect(ev?.timeNano).toBe(1795997898259812559n);
    expect(BigInt(JSON.parse(line).timeNano)).not.toBe(1795997898259812559n); // why it is read from the text
    expect(ev).toMatchObject({ type: 'container', action: 'die', id: '82fab2fc674a7cf61991894f744bda91' });
    expect(ev?.attributes).toEqual({ exitCode: '137', image: 'img', name: 'oomt', 'ds01.user': 'alice' });
    expect(ev?.key).toBe('1795997898259812559:die:82fab2fc674a7cf6');
  });

  it('rejects what is not an event, without throwing', () => {
    for (const bad of ['', 'not json', '[1,2]', 'null', '{"Type":"container"}', '{"Type":"container","Action":"start"}']) {
      expect(parseDockerEvent(bad)).toBeNull();
    }
  });

  it('falls back to whole seconds when timeNano is missing', () => {
    expect(parseDockerEvent('{"Type":"container","Action":"start","Actor":{"ID":"x"},"time":12}')?.timeNano).toBe(12_000_000_000n);
  });

  it('formats since/until as seconds.nanoseconds, and keys carry their time', () => {
    expect(dockerTimeParam(1795997898000000005n)).toBe('1795997898.000000005');
    expect(keyTime(eventKey(42n, 'start', 'abc'))).toBe(42n);
    expect(keyTime('junk')).toBeNull();
  });
});

describe('LineSplitter', () => {
  it('joins lines split anywhere, including inside a UTF-8 character', () => {
    const text = Buffer.from('{"a":"é"}\n{"b":2}\n{"c"');
    const s = new LineSplitter();
    const out: string[] = [];
    for (let i = 0; i < text.length; i += 1) out.push(...s.push(text.subarray(i, i + 1)));
    out.push(...s.push(Buffer.from(':3}\n')));
    expect(out).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
    expect(s.end()).toEqual([]);
  });

  it('drops an over-long line whole and counts it, keeping the next ones', () => {
    const s = new LineSplitter(16);
    expect(s.push(Buffer.from(`${'x'.repeat(40)}\nok\n`))).toEqual(['ok']);
    expect(s.push(Buffer.from('y'.repeat(20)))).toEqual([]);
    expect(s.push(Buffer.from('z\nfine'))).toEqual([]);
    expect(s.end()).toEqual(['fine']);
    expect(s.oversized).toBe(2);
  });
});

describe('signalFromExitCode', () => {
  it('names the signal only for 128+n', () => {
    expect(signalFromExitCode(137)).toBe('SIGKILL');
    expect(signalFromExitCode(143)).toBe('SIGTERM');
    expect(signalFromExitCode(0)).toBeNull();
    expect(signalFromExitCode(3)).toBeNull();
    expect(signalFromExitCode(128)).toBeNull();
    expect(signalFromExitCode(null)).toBeNull();
  });
});

describe('ContainerMemory', () => {
  it('stays within its limit, dropping the least recently used', () => {
    const m = new ContainerMemory(3);
    for (const id of ['a', 'b', 'c']) m.update(id, { name: id });
    m.update('a', { gpu: true }); // a is now the most recent
    m.update('d', { name: 'd' });
    expect(m.size).toBe(3);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toEqual({ name: 'a', gpu: true });
    m.forget('a');
    expect(m.get('a')).toBeUndefined();
  });
});

describe('watch state', () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-watch-state-'));
  const state: WatchState = {
    version: 1,
    since_nano: '1795997898259812559',
    anchor: '1795997898259812559:die:82fab2fc674a7cf6',
    recent: ['1795997898259812559:die:82fab2fc674a7cf6'],
    log: { file: '/x', offset: 10, ino: 1 },
    pid: 42,
    updated_at: '',
  };

  it('round-trips, and reports a missing file as a first start', () => {
    const d = dir();
    const file = path.join(d, 'sub', 'w.json');
    expect(loadWatchState(file)).toEqual({ kind: 'missing' });
    saveWatchState(file, { ...state });
    const loaded = loadWatchState(file);
    expect(loaded.kind).toBe('ok');
    expect(loaded.kind === 'ok' && loaded.state.since_nano).toBe(state.since_nano);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['w.json']); // no temporary left behind
  });

  it('moves a file that fails the schema aside', () => {
    const d = dir();
    const file = path.join(d, 'w.json');
    fs.writeFileSync(file, JSON.stringify({ ...state, since_nano: 12 }));
    const loaded = loadWatchState(file);
    expect(loaded.kind).toBe('corrupt');
    expect(fs.existsSync(file)).toBe(false);
    expect(loaded.kind === 'corrupt' && fs.existsSync(loaded.movedTo)).toBe(true);
  });
});

describe('recoverLoggedKeys', () => {
  it("finds the previous process's events after the mark, and only those", () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-watch-log-'));
    const file = path.join(d, 'events.jsonl');
    const ev = (pid: number, type: string, nano: string, source = 'ds01-docker-watch') =>
      `${JSON.stringify({ event_type: type, source, pid, details: { container_id: 'c0ffee0123456789ab', docker_time_nano: nano } })}\n`;
    fs.writeFileSync(file, ev(7, 'container.start', '1'));
    const offset = fs.statSync(file).size;
    fs.appendFileSync(
      file,
      ev(7, 'container.stop', '2') + ev(8, 'container.stop', '3') + ev(7, 'container.remove', '4', 'other') + '{"torn',
    );
    const ino = fs.statSync(file).ino;
    expect(recoverLoggedKeys({ file, offset, ino }, 7)).toEqual(['2:die:c0ffee0123456789']);
    // Rotated (another inode): the new file is read from its start.
    expect(recoverLoggedKeys({ file, offset, ino: ino + 1 }, 7)).toEqual(['1:start:c0ffee0123456789', '2:die:c0ffee0123456789']);
    expect(recoverLoggedKeys({ file: path.join(d, 'none'), offset: 0, ino: 0 }, 7)).toEqual([]);
  });
});
