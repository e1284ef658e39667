import fs from 'node:fs';

const CONTAINER_ID = /[0-9a-f]{64}/g;

/**
 * The Docker container a host process runs in, from its cgroup path
 * (`/docker/<id>`, `docker-<id>.scope`, or under a ds01 slice), or null for a
 * host process. undefined when the process is gone.
 */
export function containerIdOfPid(pid: number, procRoot = '/proc'): string | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  return containerIdFromCgroup(text);
}

export function containerIdFromCgroup(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    // The innermost id wins (a container inside a container names both).
    for (const m of path.matchAll(CONTAINER_ID)) found = m[0];
    if (found) break;
  }
  return found;
}

/** The uid that owns a process (real uid from /proc/<pid>/status). */
export function uidOfPid(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The process start time in clock ticks since boot, so a reused PID is told apart. */
export function startTimeOfPid(pid: number, procRoot = '/proc'): string | undefined {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}
