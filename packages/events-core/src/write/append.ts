import fs from 'node:fs';
import path from 'node:path';
import { ensureDir } from '../fs/ensure-dir.js';

/**
 * Modes for what the writer creates when it is missing. The log directory is
 * setgid so files stay in its group; the file is group-writable because the
 * docker wrapper runs as each user. Installers tighten ownership (root:docker).
 */
export const LOG_DIR_MODE = 0o2775;
export const LOG_FILE_MODE = 0o664;

interface OpenLog {
  fd: number;
  dev: number;
  ino: number;
  checkedAt: number;
}

/**
 * How often a kept descriptor is checked against the path. A stat per event
 * would cost about a third of the write path; events written in the short
 * window after a rename rotation land in the rotated file, which readers read
 * too (logrotate must use delaycompress, as the shipped entry does).
 */
export const REOPEN_CHECK_MS = 100;

const open = new Map<string, OpenLog>();

/**
 * Appends one buffer with a single write(2) on an O_APPEND descriptor, so
 * concurrent writers never interleave on a local filesystem. The descriptor is
 * kept open, but re-opened whenever the path no longer names the same file
 * (rename rotation, deletion), so writers follow the log by path.
 */
export function appendLine(file: string, data: string): void {
  let entry = open.get(file);
  const now = Date.now();
  if (entry && now - entry.checkedAt >= REOPEN_CHECK_MS) {
    entry.checkedAt = now;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch {
      st = undefined;
    }
    if (!st || st.ino !== entry.ino || st.dev !== entry.dev) {
      closeQuietly(entry.fd);
      open.delete(file);
      entry = undefined;
    }
  }
  if (!entry) {
    entry = openForAppend(file);
    open.set(file, entry);
  }
  const buffer = Buffer.from(data);
  const written = fs.writeSync(entry.fd, buffer);
  if (written !== buffer.length) {
    // A short write (disk full) leaves a torn line; readers skip it and we report failure.
    throw Object.assign(new Error(`short write (${written} of ${buffer.length} bytes)`), { code: 'ENOSPC' });
  }
}

function openForAppend(file: string): OpenLog {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    for (const dir of ensureDir(path.dirname(file), LOG_DIR_MODE)) {
      try {
        fs.chmodSync(dir, LOG_DIR_MODE); // the umask would drop group write and setgid
      } catch {
        /* best effort */
      }
    }
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, LOG_FILE_MODE);
    try {
      // The umask would otherwise decide who else may append.
      fs.fchmodSync(fd, LOG_FILE_MODE);
    } catch {
      /* not our file (created concurrently by another user): leave its mode */
    }
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile() && !st.isCharacterDevice()) {
    closeQuietly(fd);
    throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  }
  return { fd, dev: st.dev, ino: st.ino, checkedAt: Date.now() };
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Closes every cached descriptor (tests, long-running services on shutdown). */
export function closeEventLogs(): void {
  for (const entry of open.values()) closeQuietly(entry.fd);
  open.clear();
}
