import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

function has(db: 'passwd' | 'group', name: string): boolean {
  try {
    return fs
      .readFileSync(`/etc/${db}`, 'utf8')
      .split('\n')
      .some((l) => l.split(':')[0] === name);
  } catch {
    return false;
  }
}

export interface DemoUsers {
  created: string[];
  createdGroups: string[];
  /** Removes exactly the users and groups made for the demo. */
  remove: () => void;
}

/**
 * The demo acts for real accounts (root may act as DS01_AS_USER only for a
 * user that exists). Missing ones are created as system-less plain users in
 * group docker, like the test users, and deleted again at the end, so a
 * fresh machine is left as it was.
 */
export function ensureDemoUsers(users: readonly string[], log: (msg: string) => void): DemoUsers {
  const created: string[] = [];
  const createdGroups: string[] = [];
  const missing = users.filter((u) => !has('passwd', u));
  if (missing.length > 0 && process.getuid?.() !== 0) {
    throw new Error(`the demo users ${missing.join(', ')} do not exist and only root can create them: run the demo as root`);
  }
  for (const group of ['docker', 'ds01-admin']) {
    if (!has('group', group)) {
      execFileSync('groupadd', ['--system', group]);
      createdGroups.push(group);
    }
  }
  for (const user of missing) {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', 'docker', user]);
    created.push(user);
  }
  if (created.length) log(`created the demo users ${created.join(', ')} (removed again at the end)`);
  return {
    created,
    createdGroups,
    remove: () => {
      for (const user of created) {
        try {
          execFileSync('userdel', [user], { stdio: 'ignore' });
        } catch {
          log(`could not remove the demo user ${user}; remove it with: userdel ${user}`);
        }
      }
      for (const group of createdGroups) {
        try {
          execFileSync('groupdel', [group], { stdio: 'ignore' });
        } catch {
          /* a group someone else started using stays */
        }
      }
    },
  };
}
