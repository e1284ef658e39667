import { parseDockerTime } from '../time/index.js';
import type { InspectLike } from './classify-container.js';

/**
 * The two calls this needs from a container handle. A dockerode `Container`
 * fits as it is; events-core itself does not depend on dockerode.
 */
export interface StoppableContainer {
  inspect(): Promise<InspectLike>;
  stop(options?: { t?: number }): Promise<unknown>;
}

/** What the job saw when it decided to stop: the container and the start it judged. */
export interface StopExpectation {
  id: string;
  /** State.StartedAt as an instant (classifyContainer's `startedAt`). */
  startedAt: number | null;
}

export type StopSkipReason = 'gone' | 'replaced' | 'not_running' | 'restarting' | 'restarted';

export type StopResult =
  | {
      outcome: 'stopped';
      /** The grace given between SIGTERM and SIGKILL (null: Docker's default for the container). */
      graceS: number | null;
      /** State.FinishedAt after the stop, when the container could be read back. */
      finishedAt: number | null;
      exitCode: number | null;
    }
  | { outcome: 'skipped'; reason: StopSkipReason; message: string }
  | { outcome: 'failed'; message: string };

function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  return e?.json?.message ?? e?.message ?? String(err);
}

/**
 * Stops a container only if it is still the one the decision was made about:
 * the same id, still running, not restarted since (same StartedAt). A
 * container that changed or vanished is skipped, never an error. The stop is
 * Docker's: the stop signal, then SIGKILL after `graceS` seconds (rounded up,
 * as the API takes whole seconds).
 */
export async function stopContainerChecked(
  container: StoppableContainer,
  expected: StopExpectation,
  graceS: number | null,
): Promise<StopResult> {
  let current: InspectLike;
  try {
    current = await container.inspect();
  } catch (err) {
    if (statusCodeOf(err) === 404) return { outcome: 'skipped', reason: 'gone', message: 'the container no longer exists' };
    return { outcome: 'failed', message: `inspect: ${messageOf(err)}` };
  }
  if (current.Id !== expected.id) {
    return { outcome: 'skipped', reason: 'replaced', message: `the name now belongs to another container (${current.Id.slice(0, 12)})` };
  }
  const state = current.State ?? {};
  if (state.Restarting) return { outcome: 'skipped', reason: 'restarting', message: 'the container is restarting' };
  if (!state.Running) return { outcome: 'skipped', reason: 'not_running', message: `the container is ${state.Status ?? 'not running'}` };
  if (parseDockerTime(state.StartedAt) !== expected.startedAt) {
    return { outcome: 'skipped', reason: 'restarted', message: 'the container was restarted since it was checked' };
  }

  const t = graceS === null ? undefined : Math.max(0, Math.ceil(graceS));
  try {
    await container.stop(t === undefined ? {} : { t });
  } catch (err) {
    const code = statusCodeOf(err);
    if (code === 304) return { outcome: 'skipped', reason: 'not_running', message: 'the container stopped by itself' };
    if (code === 404) return { outcome: 'skipped', reason: 'gone', message: 'the container was removed meanwhile' };
    return { outcome: 'failed', message: `stop: ${messageOf(err)}` };
  }

  let finishedAt: number | null = null;
  let exitCode: number | null = null;
  try {
    const after = (await container.inspect()) as InspectLike & { State?: { ExitCode?: number } | null };
    finishedAt = parseDockerTime(after.State?.FinishedAt);
    exitCode = typeof after.State?.ExitCode === 'number' ? after.State.ExitCode : null;
  } catch {
    /* removed right after the stop (e.g. --rm): the stop itself succeeded */
  }
  return { outcome: 'stopped', graceS: t ?? null, finishedAt, exitCode };
}
