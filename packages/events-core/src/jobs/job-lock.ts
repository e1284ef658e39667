import { statePath } from '../paths.js';
import { tryFileLock } from '../state/lock.js';

export type JobLockResult<T> = { ran: true; result: T } | { ran: false; message: string };

/**
 * One run at a time per job: the lock is taken without waiting. A second run
 * that finds it held does nothing; the caller prints the message and exits 0.
 */
export async function withJobLock<T>(job: string, fn: () => Promise<T>): Promise<JobLockResult<T>> {
  const file = statePath(`${job}.run`);
  const release = await tryFileLock(file);
  if (!release) return { ran: false, message: `${job}: another run is in progress (lock ${file}.lock); skipping this one` };
  try {
    return { ran: true, result: await fn() };
  } finally {
    await release().catch(() => {});
  }
}
