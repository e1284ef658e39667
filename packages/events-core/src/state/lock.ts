import path from 'node:path';
import lockfile from 'proper-lockfile';
import { ensureDir } from '../fs/ensure-dir.js';

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(
    readonly file: string,
    readonly waitedMs: number,
  ) {
    super(`could not lock ${file} within ${Math.round(waitedMs / 100) / 10}s (another ds01 process holds it); nothing was changed`);
  }
}

export interface LockOptions {
  /** Longest wait for the lock before failing (fails closed). Default 10 s or DS01_LOCK_TIMEOUT_MS. */
  timeoutMs?: number;
  /**
   * A holder that stopped refreshing its lock for this long is dead (killed)
   * and its lock is taken over. proper-lockfile refreshes every stale/2.
   */
  staleMs?: number;
}

function defaultTimeout(): number {
  const env = Number(process.env.DS01_LOCK_TIMEOUT_MS);
  return Number.isFinite(env) && env > 0 ? env : 10_000;
}

/**
 * Runs `fn` holding a cross-process lock on `file` (a `<file>.lock` directory,
 * atomic on every local filesystem). Waits a bounded time, then throws
 * LockTimeoutError: callers never carry on without the lock.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? defaultTimeout();
  const staleMs = Math.max(2000, options.staleMs ?? 5000);
  ensureDir(path.dirname(file));
  const started = Date.now();
  let release: (() => Promise<void>) | undefined;
  let compromised: Error | undefined;
  while (!release) {
    try {
      release = await lockfile.lock(file, {
        realpath: false,
        stale: staleMs,
        update: Math.floor(staleMs / 2),
        retries: 0,
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw new LockTimeoutError(file, waited);
      await new Promise((r) => setTimeout(r, Math.min(25 + Math.random() * 50, timeoutMs - waited)));
    }
  }
  try {
    const result = await fn();
    if (compromised) throw compromised;
    return result;
  } finally {
    await release().catch(() => {
      /* lock already gone (compromised); the error above reports it */
    });
  }
}

/**
 * Takes a lock without waiting, for jobs where a second run should simply
 * step aside. Returns a release function, or null when someone holds it.
 */
export async function tryFileLock(file: string, staleMs = 30_000): Promise<(() => Promise<void>) | null> {
  ensureDir(path.dirname(file));
  try {
    return await lockfile.lock(file, {
      realpath: false,
      stale: staleMs,
      update: Math.floor(staleMs / 2),
      retries: 0,
      onCompromised: () => {},
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return null;
    throw err;
  }
}
