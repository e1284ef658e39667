import fs from 'node:fs';
import { type Hit, parseHit } from './hit.js';

const PROBE_BYTES = 64 << 10;

/**
 * The byte offset of a line start in an append-ordered plain log from which
 * every event at or after `target` lies, found by binary search over byte
 * offsets (O(log size) small reads instead of a scan). Lines that cannot be
 * read are stepped over; the caller passes a target already moved back by
 * the tolerated clock skew.
 */
export async function findOffset(path: string, target: number): Promise<number> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } catch {
    return 0;
  }
  try {
    const { size } = await fh.stat();
    let lo = 0; // a line start known to be at or before the answer
    let hi = size;
    const probe = Buffer.allocUnsafe(PROBE_BYTES);
    while (hi - lo > PROBE_BYTES) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const found = await firstEventAfter(fh, probe, mid, hi);
      if (!found) {
        hi = mid;
        continue;
      }
      if (found.hit.time < target) lo = found.lineStart;
      else hi = mid;
    }
    return lo;
  } finally {
    await fh.close();
  }
}

/** The first readable event whose line starts after `from` (and before `limit`). */
async function firstEventAfter(
  fh: fs.promises.FileHandle,
  probe: Buffer,
  from: number,
  limit: number,
): Promise<{ hit: Hit; lineStart: number } | null> {
  let pos = from;
  while (pos < limit) {
    const { bytesRead } = await fh.read(probe, 0, probe.length, pos);
    if (bytesRead === 0) return null;
    const view = probe.subarray(0, bytesRead);
    let s = view.indexOf(0x0a);
    if (s < 0) {
      pos += bytesRead; // inside one very long line: look further on
      continue;
    }
    s += 1;
    for (;;) {
      const e = view.indexOf(0x0a, s);
      if (e < 0) break;
      if (pos + s >= limit) return null;
      const hit = parseHit(view.toString('utf8', s, e), '', 0);
      if (hit) return { hit, lineStart: pos + s };
      s = e + 1;
    }
    pos += Math.max(s - 1, 1);
  }
  return null;
}
