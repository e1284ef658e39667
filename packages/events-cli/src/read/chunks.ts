import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { LogFile } from '@ds01/events-core/read';

/** A run of whole lines: bytes [0, end) of buf, starting at file offset `base`. */
export interface Chunk {
  buf: Buffer;
  base: number;
}

const CHUNK_BYTES = 4 << 20;
const NEWLINE = 0x0a;

/**
 * Reads a log forward from `start` in large blocks cut at line ends, so
 * lines can be searched as bytes before any is decoded. The last chunk may
 * end without a newline (a line still being written). For .gz files offsets
 * count decompressed bytes.
 */
export function forwardChunks(file: LogFile, start: number): AsyncGenerator<Chunk> {
  return file.compressed ? gzipChunks(file.path, start) : plainChunks(file.path, start);
}

async function* plainChunks(path: string, start: number): AsyncGenerator<Chunk> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated away meanwhile
    throw err;
  }
  let pos = start;
  let carry: Buffer | null = null;
  try {
    for (;;) {
      const keep: number = carry ? carry.length : 0;
      const block: Buffer = Buffer.allocUnsafe(keep + CHUNK_BYTES);
      if (carry) carry.copy(block, 0);
      const { bytesRead } = await fh.read(block, keep, CHUNK_BYTES, pos);
      pos += bytesRead;
      const len: number = keep + bytesRead;
      if (bytesRead === 0) {
        if (len > 0) yield { buf: block.subarray(0, len), base: pos - len };
        return;
      }
      const lastNl: number = block.lastIndexOf(NEWLINE, len - 1);
      if (lastNl < 0) {
        carry = block.subarray(0, len);
        continue;
      }
      carry = lastNl + 1 < len ? block.subarray(lastNl + 1, len) : null;
      yield { buf: block.subarray(0, lastNl + 1), base: pos - len };
    }
  } finally {
    await fh.close();
  }
}

async function* gzipChunks(path: string, start: number): AsyncGenerator<Chunk> {
  const raw = fs.createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
  let pos = 0;
  let carry: Buffer | null = null;
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, piece]) : piece;
      const base = pos - (carry?.length ?? 0);
      pos += piece.length;
      const lastNl = buf.lastIndexOf(NEWLINE);
      if (lastNl < 0) {
        carry = buf;
        continue;
      }
      carry = lastNl + 1 < buf.length ? buf.subarray(lastNl + 1) : null;
      const whole = buf.subarray(0, lastNl + 1);
      if (base + whole.length <= start) continue;
      if (base < start) {
        yield { buf: whole.subarray(start - base), base: start };
      } else yield { buf: whole, base };
    }
  } catch (err) {
    // A truncated archive still gives what it held.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'Z_BUF_ERROR' && code !== 'Z_DATA_ERROR' && code !== 'ENOENT') throw err;
  } finally {
    raw.destroy();
  }
  if (carry && carry.length > 0) yield { buf: carry, base: pos - carry.length };
}

/**
 * Reads a plain log backward from `end` in blocks, yielding each block's
 * whole lines; the partial first line of a block is carried into the next
 * (earlier) one.
 */
export async function* backwardChunks(path: string, end: number, blockBytes = 256 << 10): AsyncGenerator<Chunk> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let pos = end;
  let carry: Buffer | null = null; // the start of a line whose beginning lies before `pos`
  try {
    while (pos > 0) {
      const size = Math.min(blockBytes, pos);
      pos -= size;
      const keep = carry?.length ?? 0;
      const block = Buffer.allocUnsafe(size + keep);
      const { bytesRead } = await fh.read(block, 0, size, pos);
      if (bytesRead < size) {
        // The file shrank under us (truncation): stop with what we have.
        return;
      }
      if (carry) carry.copy(block, size);
      const firstNl = pos === 0 ? -1 : block.indexOf(NEWLINE);
      if (firstNl < 0 && pos > 0) {
        carry = block;
        continue;
      }
      carry = pos === 0 ? null : block.subarray(0, firstNl + 1);
      const from = pos === 0 ? 0 : firstNl + 1;
      yield { buf: block.subarray(from), base: pos + from };
    }
  } finally {
    await fh.close();
  }
}
