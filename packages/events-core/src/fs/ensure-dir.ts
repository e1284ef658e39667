import fs from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` with a bounded walk. Node's own recursive mkdir spins forever on
 * some pseudo-filesystems (a path under /proc), which would hang the caller's
 * operation; this one creates each missing level once and throws otherwise.
 */
export function ensureDir(dir: string, mode = 0o755): string[] {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (let depth = 0; depth < 128; depth++) {
    try {
      const st = fs.statSync(current);
      if (!st.isDirectory()) throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(current);
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  const created: string[] = [];
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, { mode });
      created.push(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return created;
}
