import fs from 'node:fs';
import path from 'node:path';

export interface LogFile {
  path: string;
  compressed: boolean;
  /** Last modification: no event in the file is newer than this. */
  mtimeMs: number;
  /** The live file (last in the list) or a rotated sibling. */
  live: boolean;
}

const ROTATED = /^(?:\.(\d+)|-(\d{8}(?:[-_]?\d{2,6})?))(\.gz)?$/;

/**
 * The live log and its rotated siblings, oldest first: `events.jsonl.N`
 * (higher N is older), `events.jsonl-YYYYMMDD` (logrotate dateext), and the
 * `.gz` of either. Siblings are ordered by modification time, which rotation
 * preserves, with the naming scheme breaking ties.
 */
export function listLogFiles(livePath: string): LogFile[] {
  const dir = path.dirname(livePath);
  const base = path.basename(livePath);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    names = [];
  }
  const rotated: (LogFile & { key: number | string })[] = [];
  for (const name of names) {
    if (!name.startsWith(base) || name === base) continue;
    const m = ROTATED.exec(name.slice(base.length));
    if (!m) continue;
    const full = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(full);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const key = m[1] !== undefined ? -Number(m[1]) : (m[2] as string);
    rotated.push({ path: full, compressed: Boolean(m[3]), mtimeMs: st.mtimeMs, live: false, key });
  }
  rotated.sort((a, b) => {
    if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
    if (typeof a.key === 'number' && typeof b.key === 'number') return a.key - b.key;
    return String(a.key).localeCompare(String(b.key));
  });
  const files: LogFile[] = rotated.map(({ key: _key, ...f }) => f);
  try {
    const st = fs.statSync(livePath);
    if (st.isFile()) files.push({ path: livePath, compressed: false, mtimeMs: st.mtimeMs, live: true });
  } catch {
    /* no live file yet */
  }
  return files;
}
