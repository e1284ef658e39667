// The built bin's entry (tools/bin-loader.cjs, shared by every bundled ds01
// bin): the code cache is used when it was made from this very bundle, and
// anything else (no cache, a cache from another build, bytes V8 refuses) only
// costs a compile, never a wrong answer.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, tempDir } from './helpers/fixtures.js';

const bundle = BIN.replace(/\.cjs$/, '.bundle.cjs');
const cache = BIN.replace(/\.cjs$/, '.bundle.cache');

function runBin(bin: string, log: string): { stdout: string; report: string } {
  const env = { ...process.env, DS01_EVENTS_FILE: log, DS01_CODE_CACHE_REPORT: '1', NO_COLOR: '1' };
  const stderr = path.join(path.dirname(log), 'stderr.txt');
  const fd = fs.openSync(stderr, 'w');
  try {
    const stdout = execFileSync(process.execPath, [bin, '--count'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', fd] });
    return { stdout, report: fs.readFileSync(stderr, 'utf8').match(/ds01 code cache: (\w+)/)?.[1] ?? '' };
  } finally {
    fs.closeSync(fd);
  }
}

/** A copy of the built bin in its own folder (file times change; the cache still belongs to the bundle). */
function copyBin(dir: string): string {
  for (const f of [BIN, bundle, cache]) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  return path.join(dir, path.basename(BIN));
}

/** A folder for one test, with a log of one event. */
function setup(): { dir: string; log: string } {
  const dir = tempDir();
  const log = path.join(dir, 'events.jsonl');
  const event = { v: 2, event_id: '1', timestamp: '2026-11-30T05:00:00Z', event_type: 'gpu.allocate', user: 'a', source: 't', details: {} };
  fs.writeFileSync(log, `${JSON.stringify(event)}\n`);
  return { dir, log };
}

describe('the bundled bin and its code cache', () => {
  it('is built as an entry, one bundle with no import() left, and a cache', () => {
    expect(fs.existsSync(cache)).toBe(true);
    expect(fs.readFileSync(bundle, 'utf8')).not.toMatch(/\bimport\(/);
    expect(fs.existsSync(BIN.replace(/\.cjs$/, '.js'))).toBe(false);
  });

  it('uses the cache made from its bundle', () => {
    const { dir, log } = setup();
    expect(runBin(BIN, log)).toEqual({ stdout: '1\n', report: 'used' });
    const copy = fs.mkdtempSync(path.join(dir, 'same-'));
    expect(runBin(copyBin(copy), log)).toEqual({ stdout: '1\n', report: 'used' });
  });

  it('compiles instead when the cache is missing, from another bundle, or refused by V8', () => {
    const { dir, log } = setup();
    const missing = fs.mkdtempSync(path.join(dir, 'missing-'));
    const bin = copyBin(missing);
    fs.rmSync(path.join(missing, path.basename(cache)));
    expect(runBin(bin, log)).toEqual({ stdout: '1\n', report: 'absent' });

    // A rebuilt bundle (here: the same code, the same size, another build id) never runs another build's compiled code.
    const other = fs.mkdtempSync(path.join(dir, 'other-'));
    const otherBin = copyBin(other);
    const otherBundle = path.join(other, path.basename(bundle));
    const code = fs.readFileSync(otherBundle, 'utf8');
    const id = code.match(/\n\/\/ds01-build-id (\S+)\n$/)?.[1] ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    fs.writeFileSync(otherBundle, code.replace(id, [...id].reverse().join('')));
    expect(runBin(otherBin, log)).toEqual({ stdout: '1\n', report: 'stale' });

    // The right stamp on bytes that are not a cache for this script: V8 checks and refuses them.
    const refused = fs.mkdtempSync(path.join(dir, 'refused-'));
    const refusedBin = copyBin(refused);
    const stamp = fs.readFileSync(cache).subarray(0, fs.readFileSync(cache).indexOf(10) + 1);
    fs.writeFileSync(path.join(refused, path.basename(cache)), Buffer.concat([stamp, Buffer.alloc(4096, 7)]));
    expect(runBin(refusedBin, log)).toEqual({ stdout: '1\n', report: 'rejected' });
  });
});
