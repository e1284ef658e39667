import fs from 'node:fs';
import path from 'node:path';

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(
    readonly pidFile: string,
    readonly pid: number,
  ) {
    super(
      `another ds01-docker-watch (pid ${pid}) is already running (${pidFile}); stop it first, two watchers would log every event twice`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One watcher per state file. A pid file rather than a lock directory with a
 * staleness timeout: after a SIGKILL the service restarts at once, and a dead
 * pid is recognised immediately instead of after the timeout.
 */
export function acquireInstanceLock(pidFile: string): () => void {
  fs.mkdirSync(path.dirname(pidFile), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      fs.writeFileSync(pidFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          if (Number(fs.readFileSync(pidFile, 'utf8').trim()) === process.pid) fs.unlinkSync(pidFile);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    try {
      holder = Number(fs.readFileSync(pidFile, 'utf8').trim());
    } catch {
      continue; // removed between our create and read: try again
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new AlreadyRunningError(pidFile, holder);
    }
    try {
      fs.unlinkSync(pidFile); // left by a watcher that died
    } catch {
      /* someone else removed it */
    }
  }
  throw new Error(`could not create ${pidFile}`);
}
