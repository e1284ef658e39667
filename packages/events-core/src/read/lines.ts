import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { LogFile } from './log-files.js';

const NEWLINE = 0x0a;

/**
 * Streams the lines of one log file (plain or gzip) as strings, splitting on
 * raw bytes so a multi-byte character across a chunk boundary stays whole.
 * Pass `start` to begin at a byte offset of a plain file.
 */
export async function* readLines(file: LogFile, start = 0): AsyncGenerator<string> {
  const raw = fs.createReadStream(file.path, { start: file.compressed ? 0 : start, highWaterMark: 1 << 20 });
  const stream = file.compressed ? raw.pipe(createGunzip()) : raw;
  let carry: Buffer | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let from = 0;
      for (let nl = buf.indexOf(NEWLINE, from); nl >= 0; nl = buf.indexOf(NEWLINE, from)) {
        if (nl > from) yield buf.toString('utf8', from, nl);
        from = nl + 1;
      }
      carry = from < buf.length ? buf.subarray(from) : null;
    }
  } catch (err) {
    // A truncated .gz still yields what it held; report nothing more from it.
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw err;
  } finally {
    raw.destroy();
  }
  if (carry && carry.length > 0) yield carry.toString('utf8');
}
