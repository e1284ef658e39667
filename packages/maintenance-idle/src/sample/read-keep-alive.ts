import fs from 'node:fs';

export const KEEP_ALIVE_PATH = '/workspace/.keep-alive';

/**
 * The mtime (epoch ms) of /workspace/.keep-alive inside the container, read
 * through the init process's root (/proc/<pid>/root, root only) instead of a
 * `docker exec` per container. Null when there is no such file.
 */
export function readKeepAliveMtime(pid: number): number | null {
  if (pid <= 0) return null;
  try {
    const st = fs.statSync(`/proc/${pid}/root${KEEP_ALIVE_PATH}`);
    return st.isFile() ? st.mtimeMs : null;
  } catch {
    return null;
  }
}
