import type * as EventsCore from '@ds01/events-core';

type LogEvent = typeof EventsCore.logEvent;
// Settled writes leave the set, so a long-running user (the Engine API proxy) does not accumulate them.
const pending = new Set<Promise<unknown>>();
let loaded: Promise<typeof EventsCore> | undefined;

/**
 * events-core's logEvent, loaded on first use: most docker commands log
 * nothing, and the event catalogue is not free to load. Same signature and
 * typing; the write completes in flushEvents().
 */
export const logEvent = ((type: string, options: unknown) => {
  loaded ??= import('@ds01/events-core');
  const write = loaded.then((m) => (m.logEvent as (t: string, o: unknown) => boolean)(type, options)).catch(() => false);
  pending.add(write);
  void write.finally(() => pending.delete(write));
  return true;
}) as LogEvent;

/** Waits for every event to be written and closes the log. */
export async function flushEvents(): Promise<void> {
  await Promise.all([...pending]);
  if (loaded) await (await loaded).closeEventLogs();
}
