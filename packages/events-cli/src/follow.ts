import fs from 'node:fs';
import path from 'node:path';
import type { EventFilter } from './build-filter.js';
import { type Hit, parseHit, type ReadStats } from './read/hit.js';

/** Where following a log begins: the file (by inode) and the byte after the backlog. */
export interface FollowStart {
  ino: number;
  offset: number;
}

const POLL_MS = 250;
const READ_BYTES = 1 << 20;
/** How long a file renamed away is still read: writers notice a rename within 100 ms. */
const RETIRE_MS = 5000;

interface Reading {
  fd: number;
  ino: number;
  pos: number;
  carry: Buffer | null;
}

/** The position to follow from if the log were followed right now (taken before the backlog is read). */
export function followStartOf(file: string): FollowStart | undefined {
  try {
    const st = fs.statSync(file);
    return { ino: st.ino, offset: st.size };
  } catch {
    return undefined;
  }
}

/**
 * Follows one log by path, like `tail -F`: it reads what is appended, and
 * notices both rotation styles. Rename rotation: the path names a new inode;
 * the old file is drained first, then the new one is read from its start.
 * Copytruncate: the same inode shrinks below the read position; reading
 * restarts at 0 (lines appended between logrotate's copy and truncate are
 * in the copy, not in the live file: logrotate's own window).
 */
export class LogFollower {
  private cur: Reading | null = null;
  /** Files rotated away by rename: writers that have not noticed yet may still append for a moment. */
  private retired: { reading: Reading; closeAt: number }[] = [];

  constructor(
    private readonly file: string,
    private readonly filter: EventFilter,
    private readonly stats: ReadStats,
    start: FollowStart | undefined,
  ) {
    if (start) this.cur = this.open(start.ino, start.offset);
  }

  private open(ino: number, offset: number): Reading | null {
    try {
      const fd = fs.openSync(this.file, 'r');
      const st = fs.fstatSync(fd);
      // The start was taken before the backlog; if the file changed since, read it whole.
      const pos = st.ino === ino && st.size >= offset ? offset : 0;
      return { fd, ino: st.ino, pos, carry: null };
    } catch {
      return null;
    }
  }

  /** Reads whatever is new; returns the matching events in file order. */
  poll(now = Date.now()): Hit[] {
    const hits: Hit[] = [];
    this.retired = this.retired.filter(({ reading, closeAt }) => {
      this.drain(reading, hits);
      if (now < closeAt) return true;
      fs.closeSync(reading.fd);
      return false;
    });
    if (this.cur) {
      // Truncation is judged on the open file itself, before reading: a size
      // taken by path, or before the read, would be stale and look like a shrink.
      if (fs.fstatSync(this.cur.fd).size < this.cur.pos) {
        this.cur.pos = 0;
        this.cur.carry = null;
      }
      this.drain(this.cur, hits);
    }
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(this.file);
    } catch {
      return hits; // renamed away and not recreated yet: keep the old file until then
    }
    if (this.cur && st.ino === this.cur.ino) return hits;
    // A new file at the path (rename rotation, or the first one): keep reading
    // the old one for a while, then read the new one from its start.
    if (this.cur) this.retired.push({ reading: this.cur, closeAt: now + RETIRE_MS });
    this.cur = this.open(st.ino, 0);
    if (this.cur) this.drain(this.cur, hits);
    return hits;
  }

  private drain(r: Reading, hits: Hit[]): void {
    const block = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const n = fs.readSync(r.fd, block, 0, READ_BYTES, r.pos);
      if (n === 0) return;
      r.pos += n;
      const data = r.carry ? Buffer.concat([r.carry, block.subarray(0, n)]) : block.subarray(0, n);
      let s = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, s)) {
        this.take(data.toString('utf8', s, nl), r.pos, hits);
        s = nl + 1;
      }
      // A line without its newline yet is still being written: wait for the rest.
      r.carry = s < data.length ? Buffer.from(data.subarray(s)) : null;
    }
  }

  private take(text: string, end: number, hits: Hit[]): void {
    if (text.trim().length === 0) return;
    const hit = parseHit(text, this.file, end);
    if (!hit) {
      this.stats.skipped++;
      return;
    }
    const { since, until, test } = this.filter;
    if (since !== undefined && hit.time < since) return;
    if (until !== undefined && hit.time > until) return;
    if (test(hit.event)) hits.push(hit);
  }

  close(): void {
    for (const { reading } of this.retired) fs.closeSync(reading.fd);
    this.retired = [];
    if (this.cur) fs.closeSync(this.cur.fd);
    this.cur = null;
  }
}

/**
 * Follows every log until `signal` aborts, handing each matching event to
 * `emit` as it appears. Wakes on directory changes, and polls in any case
 * (inotify misses changes on some filesystems).
 */
export async function followLogs(
  followers: { file: string; follower: LogFollower }[],
  emit: (hits: Hit[]) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  let wake: (() => void) | null = null;
  const watchers: fs.FSWatcher[] = [];
  for (const dir of new Set(followers.map((f) => path.dirname(f.file)))) {
    try {
      const w = fs.watch(dir, { persistent: false }, () => wake?.());
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      /* polling alone */
    }
  }
  signal.addEventListener('abort', () => wake?.(), { once: true });
  try {
    while (!signal.aborted) {
      for (const { follower } of followers) {
        const hits = follower.poll();
        if (hits.length > 0) await emit(hits);
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    for (const w of watchers) w.close();
    for (const { follower } of followers) follower.close();
  }
}
