/**
 * How long a container has run, accumulated across restarts, from what Docker
 * reports at each run of the job. Docker only remembers the current (or last)
 * lap of a container: State.StartedAt, and State.FinishedAt of the last exit
 * (kept while the container runs again). The ledger keeps the laps the job
 * has seen and closes each with the best end Docker offers:
 *
 * - a lap seen running and later seen stopped with the same StartedAt ends at
 *   its FinishedAt: exact;
 * - a lap seen running, and then a new StartedAt with the container running:
 *   Docker's FinishedAt is the end of the lap just before the current one.
 *   With one restart between two runs that is exact; with several, the laps
 *   in between are not reported and are counted as running from the start the
 *   job saw to that FinishedAt (at most one run interval of stopped time is
 *   counted as running);
 * - a lap seen running, then a new StartedAt with the container stopped:
 *   Docker no longer reports when the old lap ended; it is counted up to the
 *   last run that saw it running (at most one run interval is missed);
 * - a lap that started and ended between two runs is counted in full from
 *   StartedAt and FinishedAt when the job next sees the container;
 * - laps before the job first saw a container are unknown and not counted.
 */

/** The lap Docker reports now; times in epoch ms. */
export interface Lap {
  start: number;
  /** null while it runs. */
  end: number | null;
  /** The last run that saw this lap running. */
  seenRunningAt: number | null;
}

export interface Ledger {
  /** Runtime of the laps before `lap`. */
  closedMs: number;
  /** Laps counted, including the current one. */
  laps: number;
  lap: Lap;
}

/** What one inspect says about a container's lap. */
export interface LapObservation {
  startedAt: number | null;
  finishedAt: number | null;
  /** Running or paused: a paused container still holds its GPUs. */
  running: boolean;
}

export type RuntimeMode = 'accumulated' | 'since_start';

export interface LedgerUpdate {
  ledger: Ledger | undefined;
  /** A new StartedAt since the last run: the container was (re)started. */
  restarted: boolean;
}

function closedEnd(lap: Lap, finishedAt: number | null): number {
  if (finishedAt !== null && finishedAt >= lap.start) return finishedAt;
  return lap.seenRunningAt ?? lap.start;
}

/** Folds one observation into the ledger. Pure; `now` is the run's clock. */
export function observeLap(ledger: Ledger | undefined, obs: LapObservation, now: number): LedgerUpdate {
  const start = obs.startedAt;
  if (start === null) return { ledger, restarted: false };
  const freshLap = (): Lap =>
    obs.running
      ? { start, end: null, seenRunningAt: now }
      : { start, end: closedEnd({ start, end: null, seenRunningAt: null }, obs.finishedAt), seenRunningAt: null };

  if (!ledger) return { ledger: { closedMs: 0, laps: 1, lap: freshLap() }, restarted: false };

  const { lap } = ledger;
  if (lap.start === start) {
    if (obs.running) return { ledger: { ...ledger, lap: { ...lap, end: null, seenRunningAt: now } }, restarted: false };
    if (lap.end !== null) return { ledger, restarted: false };
    return { ledger: { ...ledger, lap: { ...lap, end: closedEnd(lap, obs.finishedAt) } }, restarted: false };
  }

  let previousEnd: number;
  if (lap.end !== null) previousEnd = lap.end;
  else if (obs.running && obs.finishedAt !== null && obs.finishedAt >= lap.start && obs.finishedAt <= start) previousEnd = obs.finishedAt;
  else previousEnd = lap.seenRunningAt ?? lap.start;
  return {
    ledger: {
      closedMs: ledger.closedMs + Math.max(0, previousEnd - lap.start),
      laps: ledger.laps + 1,
      lap: freshLap(),
    },
    restarted: true,
  };
}

/** Marks the current lap ended (the job itself stopped the container). */
export function closeLap(ledger: Ledger, end: number): Ledger {
  if (ledger.lap.end !== null) return ledger;
  return { ...ledger, lap: { ...ledger.lap, end: Math.max(end, ledger.lap.start) } };
}

/** Runtime at `now`: every lap counted (accumulated), or the current lap only (since_start, DS01's behaviour). */
export function runtimeMs(ledger: Ledger, mode: RuntimeMode, now: number): number {
  const { lap } = ledger;
  const current = Math.max(0, (lap.end ?? now) - lap.start);
  if (mode === 'since_start') return lap.end === null ? current : 0;
  return ledger.closedMs + current;
}
