import fs from 'node:fs';
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
 * count decompressed bytes. A plain file may be read up to `end` only (a
 * line start, when a scan is split into byte ranges), and through a
 * descriptor the caller opened (`fd`, left open): the pieces of one split
 * scan then all read the file that was planned, even if rotation renames
 * it meanwhile. `blocks` is the size of the two read blocks, or the blocks
 * themselves, for a caller that reads many ranges one after another and
 * would otherwise leave two blocks of garbage per range.
 */
export function forwardChunks(
  file: LogFile,
  start: number,
  end = Number.POSITIVE_INFINITY,
  blocks: number | [Buffer, Buffer] = CHUNK_BYTES,
  fd?: number,
): AsyncGenerator<Chunk> {
  return file.compressed ? gzipChunks(file.path, start) : plainChunks(file.path, start, end, blocks, fd);
}

/** The part of a FileHandle plainChunks uses; also made over a plain descriptor. */
interface Reader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

function descriptorReader(fd: number): Reader {
  return {
    read: (buffer, offset, length, position) =>
      new Promise((resolve, reject) => {
        fs.read(fd, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead })));
      }),
    close: async () => {},
  };
}

async function* plainChunks(
  path: string,
  start: number,
  end: number,
  given: number | [Buffer, Buffer],
  fd?: number,
): AsyncGenerator<Chunk> {
  let fh: Reader;
  try {
    fh = fd === undefined ? await fs.promises.open(path, 'r') : descriptorReader(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated away meanwhile
    throw err;
  }
  // Two blocks, used in turn: the next read goes into one while the caller
  // works on the other (the caller copies what it keeps), so reading overlaps
  // parsing and memory stays at two blocks whatever the file size.
  let blocks: [Buffer, Buffer] = typeof given === 'number' ? [Buffer.allocUnsafe(given), Buffer.allocUnsafe(given)] : [given[0], given[1]];
  const blockBytes = blocks[0].length;
  let pos = start;
  let keep = 0; // bytes of a partial line already at the start of blocks[0]
  const readInto = (block: Buffer, at: number): Promise<{ bytesRead: number }> => {
    const want = Math.min(block.length - at, end - pos);
    return want > 0 ? fh.read(block, at, want, pos) : Promise.resolve({ bytesRead: 0 });
  };
  let pending = readInto(blocks[0], 0);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      const block = blocks[0];
      const blockBase = pos - keep;
      pos += bytesRead;
      const len = keep + bytesRead;
      if (bytesRead === 0) {
        if (len > 0) yield { buf: block.subarray(0, len), base: blockBase };
        return;
      }
      const lastNl = block.lastIndexOf(NEWLINE, len - 1);
      if (lastNl < 0) {
        // One line longer than a block: grow this block and read on into it.
        const bigger = Buffer.allocUnsafe(block.length * 2);
        block.copy(bigger, 0, 0, len);
        blocks = [bigger, blocks[1]];
        keep = len;
        pending = readInto(bigger, keep);
        continue;
      }
      let next = blocks[1];
      keep = len - (lastNl + 1);
      if (next.length < keep + 1024) next = Buffer.allocUnsafe(Math.max(blockBytes, keep * 2));
      block.copy(next, 0, lastNl + 1, len);
      pending = readInto(next, keep);
      blocks = [next, block];
      yield { buf: block.subarray(0, lastNl + 1), base: blockBase };
    }
  } finally {
    // The caller may stop early: let the read in flight finish before closing.
    await pending.catch(() => undefined);
    await fh.close();
  }
}

async function* gzipChunks(path: string, start: number): AsyncGenerator<Chunk> {
  // Loaded here: most queries read no archive, and loading zlib is a noticeable part of start-up.
  const { createGunzip } = await import('node:zlib');
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
