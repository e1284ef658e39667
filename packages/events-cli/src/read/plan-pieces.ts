import fs from 'node:fs';
import { type LogFile, listLogFiles } from '@ds01/events-core/read';
import type { EventFilter } from '../build-filter.js';
import { findOffset } from './find-offset.js';
import { CLOCK_SKEW_MS } from './hit.js';
import type { Piece } from './tally-range.js';

/**
 * The files of one log a forward scan reads, oldest first, each with the
 * offset it starts at: files last modified before --since are left out
 * (every event in a file was written before its mtime), and the first plain
 * file that can hold --since is entered by binary search.
 */
export async function forwardStarts(live: string, filter: EventFilter): Promise<{ file: LogFile; start: number }[]> {
  const out: { file: LogFile; start: number }[] = [];
  for (const file of listLogFiles(live)) {
    const start = await startOf(file, filter);
    if (start !== null) out.push({ file, start });
  }
  return out;
}

/** Where a forward scan enters one file: null when it was last modified before --since. */
export async function startOf(file: LogFile, filter: EventFilter): Promise<number | null> {
  if (filter.since === undefined) return 0;
  if (file.mtimeMs < filter.since) return null;
  return file.compressed ? 0 : findOffset(file.path, filter.since - CLOCK_SKEW_MS);
}

/**
 * The pieces a forward scan of one log can be split into, in file order: a
 * plain file's bytes cut into ranges of about `pieceBytes` that begin and end
 * at line starts, a .gz archive whole. The last piece of a file runs to its
 * end as it is when read, so lines appended meanwhile are seen, as in a
 * single scan. Each plain file is opened here, once, and its pieces read
 * through that descriptor (close them with closePieces): a rotation that
 * renames files while the pieces are counted does not change what they read.
 */
export async function planPieces(live: string, filter: EventFilter, pieceBytes: number): Promise<Piece[]> {
  const pieces: Piece[] = [];
  for (const { file, start } of await forwardStarts(live, filter)) {
    if (file.compressed) {
      pieces.push({ file, start });
      continue;
    }
    let fd: number;
    try {
      fd = fs.openSync(file.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated away meanwhile
      closePieces(pieces);
      throw err;
    }
    const size = fs.fstatSync(fd).size;
    let from = start;
    const probe = Buffer.allocUnsafe(64 << 10);
    while (size - from >= pieceBytes * 2) {
      const cut = lineStartAfter(fd, probe, from + pieceBytes, size);
      if (cut < 0) break;
      pieces.push({ file, start: from, end: cut, fd });
      from = cut;
    }
    pieces.push({ file, start: from, fd });
  }
  return pieces;
}

/** Closes the descriptors planPieces opened. */
export function closePieces(pieces: Piece[]): void {
  for (const fd of new Set(pieces.map((p) => p.fd))) {
    if (fd === undefined) continue;
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}

/** The first line start after byte `at` (the byte after a newline at or after `at - 1`), or -1 before `size`. */
function lineStartAfter(fd: number, probe: Buffer, at: number, size: number): number {
  let pos = at - 1;
  while (pos < size) {
    const n = fs.readSync(fd, probe, 0, probe.length, pos);
    if (n <= 0) return -1;
    const nl = probe.subarray(0, n).indexOf(0x0a);
    if (nl >= 0) return pos + nl + 1 < size ? pos + nl + 1 : -1;
    pos += n;
  }
  return -1;
}
