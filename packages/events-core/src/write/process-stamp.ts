import type { Actor } from '../envelope.js';

/**
 * Who is writing, from the operating system only: never from caller input,
 * so a caller cannot log as someone else. Computed once per process.
 */
interface Stamp {
  host: string;
  pid: number;
  actor: Actor;
}

let cached: Stamp | undefined;

export function processStamp(): Stamp {
  if (cached && cached.pid === process.pid) return cached;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  // node:os when an event is written, not at the start of every tool that may write one.
  const os = process.getBuiltinModule('node:os');
  let user: string | null = null;
  try {
    user = os.userInfo().username;
  } catch {
    user = null; // uid without a passwd entry
  }
  const actor: Actor = { uid, user };
  const asUser = process.env.DS01_AS_USER;
  // Only root may act as someone else; for anyone else the variable is ignored here.
  if (uid === 0 && asUser) actor.as_user = asUser;
  cached = { host: os.hostname(), pid: process.pid, actor };
  return cached;
}
