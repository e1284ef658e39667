import fs from 'node:fs';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readDb(file: string): string[][] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/**
 * A name-service tool's output (throws when it fails or takes over 2 s). Run
 * only when the files miss, so child_process is loaded then, not at every start.
 */
function nssQuery(file: string, args: string[]): string {
  return process
    .getBuiltinModule('node:child_process')
    .execFileSync(file, args, { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** getent reaches NSS sources (LDAP, sssd) that the files do not list; used only when the files miss. */
function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    const out = nssQuery('getent', [db, key]);
    const line = out.split('\n')[0];
    return line ? line.split(':') : undefined;
  } catch {
    return undefined;
  }
}

function toPasswd(f: string[]): PasswdEntry {
  return { name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
}

export function lookupUser(nameOrUid: string | number): PasswdEntry | undefined {
  const key = String(nameOrUid);
  const byUid = typeof nameOrUid === 'number' || /^\d+$/.test(key);
  const hit = readDb('/etc/passwd').find((f) => (byUid ? f[2] === key : f[0] === key));
  if (hit) return toPasswd(hit);
  const ent = getent('passwd', key);
  return ent ? toPasswd(ent) : undefined;
}

/** Names of the user's groups: the primary group and every group listing them. */
export function groupsOfUser(user: PasswdEntry): string[] {
  const names = new Set<string>();
  for (const f of readDb('/etc/group')) {
    const members = (f[3] ?? '').split(',').filter(Boolean);
    if (Number(f[2]) === user.gid || members.includes(user.name)) names.add(f[0] ?? '');
  }
  if (names.size === 0) {
    try {
      const out = nssQuery('id', ['-Gn', user.name]);
      for (const n of out.trim().split(/\s+/)) if (n) names.add(n);
    } catch {
      /* unknown to NSS too */
    }
  }
  names.delete('');
  return [...names];
}

/** Names for a list of gids (the running process's groups). */
export function groupNames(gids: number[]): string[] {
  const wanted = new Set(gids);
  const names = readDb('/etc/group')
    .filter((f) => wanted.has(Number(f[2])))
    .map((f) => f[0] ?? '');
  for (const gid of gids) {
    if (!readDb('/etc/group').some((f) => Number(f[2]) === gid)) {
      const ent = getent('group', String(gid));
      if (ent?.[0]) names.push(ent[0]);
    }
  }
  return names.filter(Boolean);
}

/** Members of a Unix group: its member list and the users whose primary group it is (files, then NSS through getent). */
export function groupMembers(group: string): string[] {
  const members = new Set<string>();
  const line = readDb('/etc/group').find((f) => f[0] === group) ?? getent('group', group);
  if (!line) return [];
  for (const m of (line[3] ?? '').split(',')) if (m) members.add(m);
  for (const f of readDb('/etc/passwd')) if (f[3] === line[2] && f[0]) members.add(f[0]);
  return [...members];
}
