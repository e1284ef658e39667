import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { SessionChannel } from './gpu-session.js';

/**
 * The allocator session the launcher started (launcher.ts): on a command
 * line that mentions --gpus, the sh launcher starts `ds01-gpu allocate
 * --stdin --json` before Node has even started, on two FIFOs in a private
 * directory (`mktemp -d`), and execs the wrapper with this variable naming
 * the directory and with:
 *
 *   fd 7  the request FIFO, opened read-write (the allocator's stdin reads it)
 *   fd 8  the answer FIFO, opened read-write (the allocator's stdout writes it)
 *   err   the allocator's stderr, a file in the directory
 *
 * The launcher opens everything itself, before the allocator starts, so the
 * allocator (root, through sudo) never opens a path in a user's directory,
 * and nothing blocks on a FIFO's other end. Read-write ends never see end of
 * file, so the wrapper reopens each end one way (and close-on-exec, so the
 * real client does not inherit them), closes 7 and 8 and removes the
 * directory: then the allocator reads end of input when the wrapper closes
 * its request end or exits, and the wrapper reads end of output when the
 * allocator exits.
 */
export const LAUNCHER_SESSION_ENV = 'DS01_GPU_SESSION';
export const REQUEST_FD = 7;
export const ANSWER_FD = 8;
/** The directory's name as the launcher makes it (`mktemp -d …/ds01-gpu.XXXXXXXX`). */
const SESSION_DIR = /^ds01-gpu\.[A-Za-z0-9]+$/;

const sameFile = (fd: number, file: string) => {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.lstatSync(file);
    return a.isFIFO() && b.isFIFO() && a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
};

const closeQuietly = (fd: number) => {
  try {
    fs.closeSync(fd);
  } catch {
    // not open
  }
};

/**
 * Takes over the launcher's session, or undefined when there is none (the
 * variable is removed from `env` either way, so nothing the wrapper runs
 * inherits it). A handover that does not check out is dropped: the wrapper
 * then starts an allocator of its own.
 */
export function adoptLauncherSession(env: NodeJS.ProcessEnv): SessionChannel | undefined {
  const dir = env[LAUNCHER_SESSION_ENV];
  if (dir === undefined) return undefined;
  delete env[LAUNCHER_SESSION_ENV];
  const opened: number[] = [];
  try {
    // Only what the launcher makes: ds01-gpu.* directories of this user holding the two FIFOs on fds 7 and 8.
    const st = fs.lstatSync(dir);
    if (!SESSION_DIR.test(path.basename(dir)) || !st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0)
      return undefined;
    const req = path.join(dir, 'req');
    const ans = path.join(dir, 'ans');
    // Fds 7 and 8 are anyone's (Node's own among them) until they are seen to be these FIFOs: left alone otherwise.
    if (!sameFile(REQUEST_FD, req) || !sameFile(ANSWER_FD, ans)) return undefined;
    // Non-blocking opens: a FIFO end with nobody at the other would otherwise wait for ever.
    opened.push(fs.openSync(req, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    opened.push(fs.openSync(ans, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    opened.push(fs.openSync(path.join(dir, 'err'), fs.constants.O_RDONLY));
    fs.closeSync(REQUEST_FD);
    fs.closeSync(ANSWER_FD);
    removeSessionDir(dir);
    const [reqFd, ansFd, errFd] = opened as [number, number, number];
    return fifoChannel(reqFd, ansFd, errFd);
  } catch {
    for (const fd of opened) closeQuietly(fd);
    return undefined;
  }
}

/** Best effort: what is open stays usable without its names. */
function removeSessionDir(dir: string): void {
  try {
    for (const name of ['req', 'ans', 'err']) fs.rmSync(path.join(dir, name), { force: true });
    fs.rmdirSync(dir);
  } catch {
    // Left for the tmp cleaner: it holds nothing once the session's ends are closed.
  }
}

function fifoChannel(reqFd: number, ansFd: number, errFd: number): SessionChannel {
  const answers = new net.Socket({ fd: ansFd, readable: true, writable: false });
  answers.setEncoding('utf8');
  let inputOpen = true;
  const write = (line: string) => {
    try {
      fs.writeSync(reqFd, line);
    } catch {
      // The allocator has gone (EPIPE): its missing answer says why.
    }
  };
  return {
    send: write,
    async close(lastLine) {
      if (!inputOpen) return;
      inputOpen = false;
      if (lastLine) write(lastLine);
      closeQuietly(reqFd);
    },
    onOutput: (listener) => answers.on('data', listener),
    ended: new Promise((resolve) => answers.on('close', () => resolve(null))),
    // Started by the launcher: one that could not be run leaves the shell's reason in stderr.
    startError: () => undefined,
    stderrTail: () => {
      try {
        return fs.readFileSync(errFd, 'utf8').slice(-4096);
      } catch {
        return '';
      }
    },
    letGo: () => {
      answers.unref();
    },
  };
}
