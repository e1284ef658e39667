import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDir } from '../fs/ensure-dir.js';
import { lookupUser } from '../identity/user-db.js';
import { statePath } from '../paths.js';
import { logEvent } from '../write/log-event.js';

export interface Notice {
  job: string;
  severity: 'info' | 'warning' | 'final' | 'stopped';
  title: string;
  body: string;
  container?: string;
}

export interface NoticeResult {
  terminals: number;
  inbox: boolean;
  inboxFile: string;
}

/** The host terminals where `user` is logged in, from `who` (utmp). */
export function terminalsOf(user: string): string[] {
  let out = '';
  try {
    out = execFileSync('who', [], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const ttys = new Set<string>();
  for (const line of out.split('\n')) {
    const [name, tty] = line.trim().split(/\s+/);
    if (name === user && tty && /^[A-Za-z0-9/_-]+$/.test(tty) && !tty.includes('..')) ttys.add(`/dev/${tty}`);
  }
  return [...ttys];
}

function render(user: string, n: Notice): string {
  const tag = { info: 'NOTICE', warning: 'WARNING', final: 'FINAL WARNING', stopped: 'STOPPED' }[n.severity];
  const rule = '─'.repeat(60);
  return `\r\n${rule}\r\n[ds01 ${tag}] ${n.title}\r\n${n.body.replace(/\n/g, '\r\n')}\r\n(to ${user}, ${new Date().toISOString()}; see also ${statePath(`inbox/${user}.jsonl`)})\r\n${rule}\r\n`;
}

/**
 * Tells a user something: written to every terminal they have open on the
 * host, and appended to their inbox file (readable by them) so it is there
 * when nobody was logged in. Each notice is also a `notice.sent` event.
 * Never throws.
 */
export function sendNotice(user: string, notice: Notice): NoticeResult {
  let terminals = 0;
  const text = Buffer.from(render(user, notice));
  for (const tty of terminalsOf(user)) {
    try {
      // Non-blocking: a stuck terminal must not stall the job.
      const fd = fs.openSync(tty, fs.constants.O_WRONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
      try {
        fs.writeSync(fd, text);
        terminals++;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      /* terminal gone or not writable */
    }
  }
  const inboxFile = statePath(path.join('inbox', `${user.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`));
  let inbox = false;
  try {
    ensureDir(path.dirname(inboxFile));
    const existed = fs.existsSync(inboxFile);
    fs.appendFileSync(inboxFile, `${JSON.stringify({ timestamp: new Date().toISOString(), user, ...notice })}\n`, { mode: 0o600 });
    if (!existed && process.getuid?.() === 0) {
      const entry = lookupUser(user);
      if (entry) fs.chownSync(inboxFile, entry.uid, entry.gid);
    }
    inbox = true;
  } catch {
    inbox = false;
  }
  logEvent('notice.sent', {
    user,
    source: notice.job,
    details: {
      job: notice.job,
      severity: notice.severity,
      title: notice.title,
      terminals,
      inbox,
      ...(notice.container ? { container: notice.container } : {}),
    },
  });
  return { terminals, inbox, inboxFile };
}
