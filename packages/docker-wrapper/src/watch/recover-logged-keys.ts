import fs from 'node:fs';
import { eventKey } from './docker-event.js';
import type { LogMark } from './watch-state.js';

export const WATCH_SOURCE = 'ds01-docker-watch';

/** The Docker action each logged type stands for. */
const ACTION_OF: Record<string, string> = {
  'container.create': 'create',
  'container.start': 'start',
  'container.stop': 'die',
  'container.oom': 'oom',
  'container.remove': 'destroy',
  'container.rename': 'rename',
  'container.pause': 'pause',
  'container.unpause': 'unpause',
};

/** Only what a process appends between two state writes (a fraction of a second) is scanned. */
const MAX_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * Keys of the Docker events a previous watcher process (`pid`) logged after
 * its last state write: they reached the log, so they must not be logged
 * again. Together with the saved keys this makes a kill at any instant lose
 * nothing and repeat nothing. When the log was rotated or truncated since the
 * mark, the new file is scanned from its start.
 */
export function recoverLoggedKeys(mark: LogMark, pid: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(mark.file, 'r');
  } catch {
    return [];
  }
  try {
    const st = fs.fstatSync(fd);
    const from = st.ino === mark.ino && st.size >= mark.offset ? mark.offset : 0;
    const length = Math.min(st.size - from, MAX_SCAN_BYTES);
    if (length <= 0) return [];
    const buf = Buffer.alloc(length);
    const read = fs.readSync(fd, buf, 0, length, from);
    const keys: string[] = [];
    for (const line of buf.subarray(0, read).toString('utf8').split('\n')) {
      if (!line.includes(WATCH_SOURCE)) continue;
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (ev.source !== WATCH_SOURCE || ev.pid !== pid || typeof ev.event_type !== 'string') continue;
      const action = ACTION_OF[ev.event_type];
      const d = (ev.details ?? {}) as Record<string, unknown>;
      if (action && typeof d.docker_time_nano === 'string' && typeof d.container_id === 'string') {
        keys.push(eventKey(d.docker_time_nano, action, d.container_id));
      }
    }
    return keys;
  } finally {
    fs.closeSync(fd);
  }
}
