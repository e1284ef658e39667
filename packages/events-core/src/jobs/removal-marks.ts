import fs from 'node:fs';
import path from 'node:path';
import { statePath } from '../paths.js';

/**
 * One removal, one `container.remove` event. A maintenance job that removes a
 * container logs the event itself (DS01's contract: it carries the reason),
 * and the Docker watcher sees the same removal as a `destroy`. The job leaves a
 * mark just before it removes, and the watcher, finding it, logs nothing.
 */
const FRESH_MS = 10 * 60_000;
const dir = (env: NodeJS.ProcessEnv) => statePath('removal-marks', env);
const fileOf = (containerId: string, env: NodeJS.ProcessEnv) => path.join(dir(env), containerId.replace(/[^0-9a-zA-Z_-]/g, '_'));

/** Before removing: the job that will log the removal. Best effort; a mark it cannot write only means a second event. */
export function markRemoval(containerId: string, source: string, env: NodeJS.ProcessEnv = process.env): void {
  try {
    fs.mkdirSync(dir(env), { recursive: true, mode: 0o755 });
    fs.writeFileSync(fileOf(containerId, env), source);
    pruneStale(dir(env));
  } catch {
    // nothing to do: the watcher will log the removal as well
  }
}

/** The removal did not happen after all. */
export function clearRemovalMark(containerId: string, env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(fileOf(containerId, env), { force: true });
}

/** For the watcher: the job that logs this container's removal, if one marked it recently (the mark is consumed). */
export function takeRemovalMark(containerId: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const file = fileOf(containerId, env);
  try {
    const stat = fs.statSync(file);
    const source = fs.readFileSync(file, 'utf8');
    fs.rmSync(file, { force: true });
    return Date.now() - stat.mtimeMs <= FRESH_MS ? source || 'unknown' : null;
  } catch {
    return null;
  }
}

function pruneStale(marks: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(marks)) {
    const file = path.join(marks, name);
    try {
      if (now - fs.statSync(file).mtimeMs > FRESH_MS) fs.rmSync(file, { force: true });
    } catch {
      // raced with the watcher taking it
    }
  }
}
