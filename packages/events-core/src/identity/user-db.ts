import fs from 'node:fs';
import { eachLine, field, fieldIs, findLine, listsMember } from './colon-file.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
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
  const hit = findLine(readText('/etc/passwd'), byUid ? 2 : 0, key) ?? getent('passwd', key);
  return hit ? toPasswd(hit) : undefined;
}

/** Names of the user's groups: the primary group and every group listing them. */
export function groupsOfUser(user: PasswdEntry): string[] {
  const names = new Set<string>();
  const text = readText('/etc/group');
  const gid = String(user.gid);
  eachLine(text, (start, end) => {
    if (fieldIs(text, start, end, 2, gid) || listsMember(text, start, end, user.name)) names.add(field(text, start, end, 0));
    return false;
  });
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
  const text = readText('/etc/group');
  const names: string[] = [];
  const missing = new Set(gids.map(String));
  eachLine(text, (start, end) => {
    for (const gid of missing)
      if (fieldIs(text, start, end, 2, gid)) {
        names.push(field(text, start, end, 0));
        missing.delete(gid);
      }
    return missing.size === 0;
  });
  for (const gid of missing) {
    const ent = getent('group', gid);
    if (ent?.[0]) names.push(ent[0]);
  }
  return names.filter(Boolean);
}

/** Members of a Unix group: its member list and the users whose primary group it is (files, then NSS through getent). */
export function groupMembers(group: string): string[] {
  const members = new Set<string>();
  const line = findLine(readText('/etc/group'), 0, group) ?? getent('group', group);
  if (!line) return [];
  for (const m of (line[3] ?? '').split(',')) if (m) members.add(m);
  const passwd = readText('/etc/passwd');
  const gid = line[2] ?? '';
  eachLine(passwd, (start, end) => {
    if (fieldIs(passwd, start, end, 3, gid)) members.add(field(passwd, start, end, 0));
    return false;
  });
  members.delete('');
  return [...members];
}
