// Test users: tests run as root acting for these users (DS01_AS_USER), and a
// few cases run as one of them for real (setuid via `runuser`/spawn uid).
// Created once per machine when running as root; harmless when they exist.
//
//   alice, bob, carol   researchers (plain users, in group `docker`)
//   dana                an admin through the Unix group `ds01-admin`
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const TEST_USERS = ['alice', 'bob', 'carol', 'dana'];
export const TEST_ADMIN_GROUP = 'ds01-admin';

function has(db, name) {
  try {
    return readFileSync(`/etc/${db}`, 'utf8')
      .split('\n')
      .some((l) => l.split(':')[0] === name);
  } catch {
    return false;
  }
}

export function ensureTestUsers(log = () => {}) {
  if (process.getuid?.() !== 0) return { created: [], reason: 'not root' };
  const created = [];
  for (const group of ['docker', TEST_ADMIN_GROUP]) {
    if (!has('group', group)) execFileSync('groupadd', ['--system', group]);
  }
  for (const user of TEST_USERS) {
    if (has('passwd', user)) continue;
    const groups = user === 'dana' ? `docker,${TEST_ADMIN_GROUP}` : 'docker';
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--groups', groups, user]);
    created.push(user);
  }
  if (created.length) log(`created test users: ${created.join(', ')}`);
  return { created };
}
