import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { SiteConfig } from '@ds01/events-core/config';

/** Members of a Unix group: its member list and the users whose primary group it is (files, then NSS through getent). */
export function unixGroupMembers(group: string): string[] {
  const members = new Set<string>();
  let gid: string | undefined;
  const groupLine = readLines('/etc/group').find((f) => f[0] === group) ?? getent('group', group);
  if (groupLine) {
    gid = groupLine[2];
    for (const m of (groupLine[3] ?? '').split(',')) if (m) members.add(m);
  }
  if (gid !== undefined) for (const f of readLines('/etc/passwd')) if (f[3] === gid && f[0]) members.add(f[0]);
  return [...members];
}

function readLines(file: string): string[][] {
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

function getent(db: string, key: string): string[] | undefined {
  try {
    const line = execFileSync('getent', [db, key], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
    return line ? line.split(':') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who gets a socket: every member of the site config's groups (inline
 * `members` and groups/<g>.members), plus the members of the Unix group
 * `docker_proxy.users_group`. Sorted, without duplicates.
 */
export function socketUsers(config: SiteConfig | null, usersGroup: string | null): string[] {
  const users = new Set<string>();
  for (const g of config?.groups ?? []) for (const m of g.members) users.add(m);
  if (usersGroup) for (const m of unixGroupMembers(usersGroup)) users.add(m);
  return [...users].sort();
}
