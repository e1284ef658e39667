import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { lookupUser } from '@ds01/events-core/identity';

/** `<socket-dir>/<user>/docker.sock`: the socket the wrapper and the users' DOCKER_HOST point at. */
export function userSocketPath(socketDir: string, user: string): string {
  return path.join(socketDir, user, 'docker.sock');
}

/** A user name that is safe as one path component. */
export const safeUserName = (user: string) => /^[A-Za-z0-9._][A-Za-z0-9._@-]*$/.test(user) && user !== '.' && user !== '..';

/** The root-owned directory that holds the per-user directories: 0755, so users can reach their own. */
export function prepareSocketDir(socketDir: string): void {
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o755 });
  const st = fs.lstatSync(socketDir);
  if (!st.isDirectory()) throw new Error(`${socketDir} is not a directory`);
  if (st.uid !== 0) fs.chownSync(socketDir, 0, 0);
  fs.chmodSync(socketDir, 0o755);
  fs.mkdirSync(path.join(socketDir, '.staging'), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.join(socketDir, '.staging'), 0o700);
}

/**
 * Listens on the user's socket. `<socket-dir>/<user>/` belongs to the user
 * with mode 0700, so only they (and root) can open what is inside; the socket
 * itself is 0666. The user owns that directory, so nothing is done to a path
 * inside it that follows a link: the socket is bound and given its mode in
 * the root-only `.staging/` directory and then renamed into place (a rename
 * replaces whatever the user put there; it never writes through a link).
 */
export async function listenForUser(server: http.Server, socketDir: string, user: string): Promise<string> {
  if (!safeUserName(user)) throw new Error(`'${user}' cannot name a socket directory`);
  const entry = lookupUser(user);
  if (!entry) throw new Error(`no such user: ${user}`);
  const dir = path.join(socketDir, user);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory()) {
    fs.rmSync(dir, { force: true });
    st = undefined;
  }
  if (!st) fs.mkdirSync(dir, { mode: 0o700 });
  // The entry lives in root's directory: no one else can swap it between these calls.
  fs.chownSync(dir, entry.uid, entry.gid);
  fs.chmodSync(dir, 0o700);

  const staged = path.join(socketDir, '.staging', `${user}.sock`);
  fs.rmSync(staged, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(staged, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(staged, 0o666);
  const final = userSocketPath(socketDir, user);
  fs.renameSync(staged, final);
  return final;
}

/** Stops listening and removes the socket (the user's directory stays: it is theirs). */
export async function closeForUser(server: http.Server, socketDir: string, user: string): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // A removed user loses their open streams too (events, logs -f).
    server.closeAllConnections();
  });
  fs.rmSync(userSocketPath(socketDir, user), { force: true });
}
