import fs from 'node:fs';

/**
 * Bytes received plus sent on every interface of the container's network
 * namespace, from /proc/<pid>/net/dev of its init process. Loopback counts:
 * it is traffic inside the container (a notebook talking to its kernel, a
 * local server under test), and on hosts whose containers have no other
 * interface it is the only traffic there is. Null when unreadable.
 */
export function readNetworkBytes(pid: number): number | null {
  if (pid <= 0) return null;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return null;
  }
  let total = 0;
  let seen = false;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const rx = fields[0];
    const tx = fields[8];
    if (rx === undefined || tx === undefined || !Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    total += rx + tx;
    seen = true;
  }
  return seen ? total : null;
}
