import fs from 'node:fs';

function lookup(db: '/etc/passwd' | '/etc/group', name: string): number | undefined {
  try {
    for (const line of fs.readFileSync(db, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] !== undefined) return Number(f[2]);
    }
  } catch {
    /* unreadable: treat as absent */
  }
  return undefined;
}

export const uidOf = (user: string): number | undefined => (user === 'root' ? 0 : lookup('/etc/passwd', user));
export const gidOf = (group: string): number | undefined => (group === 'root' ? 0 : lookup('/etc/group', group));

export function groupNameOf(gid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === gid) return f[0] ?? String(gid);
    }
  } catch {
    /* fall through */
  }
  return String(gid);
}

/** Members of a Unix group by name, as listed in /etc/group and as primary group in /etc/passwd. */
export function groupMembers(group: string): string[] {
  const gid = gidOf(group);
  const out = new Set<string>();
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === group && f[3]) for (const u of f[3].split(',')) if (u) out.add(u);
    }
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (gid !== undefined && Number(f[3]) === gid && f[0]) out.add(f[0]);
    }
  } catch {
    /* nothing more to add */
  }
  return [...out].sort();
}

export const isRoot = (): boolean => process.getuid?.() === 0;
