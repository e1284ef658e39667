/**
 * Two-stage warnings before a maintenance action (idle stop, runtime stop),
 * with a guaranteed lead time: the action never happens until the final
 * warning has been out for `leadMs`, whatever the schedule of the job or the
 * limit. DS01 could send the first warning, the final warning and the stop in
 * one run; here one run sends at most one notice per container, and times are
 * computed from the projected action time, never from counts of runs.
 */

export interface WarningsSent {
  /** When the first warning went out (epoch ms), null if not in this episode. */
  firstAt?: number | null;
  /** When the final warning went out (epoch ms). */
  finalAt?: number | null;
  /** The due time the last warning was computed for (epoch ms). */
  dueAt?: number | null;
}

export interface WarningScheduleInput {
  now: number;
  /** When the clock started: idle since, running since (epoch ms). */
  since: number;
  /** The limit; the clock reaches it at `since + limitMs`. */
  limitMs: number;
  /** Earliest the action may happen for other reasons (start-up grace, keep-alive), epoch ms. */
  notBefore?: number | null;
  /** Fractions of the limit at which the warnings go out, e.g. 0.8 and 0.95. */
  firstFraction: number;
  finalFraction: number;
  /** The final warning goes out at least this long before the action, and the first at least this long before the final. */
  leadMs: number;
  sent: WarningsSent;
}

/**
 * `none`: nothing to do yet. `first` / `final`: send that warning now.
 * `wait`: warned, the action is not due yet. `act`: the action may happen now.
 */
export type WarningStep = 'none' | 'first' | 'final' | 'wait' | 'act';

export interface WarningPlan {
  step: WarningStep;
  /** When the limit is reached, moved later by `notBefore`. */
  dueAt: number;
  /** Earliest time the action can happen (the due time, or the final warning plus the lead). */
  actAt: number;
  firstWarningAt: number;
  finalWarningAt: number;
  /**
   * The warnings already sent were for an earlier due time (the clock was
   * pushed back, e.g. by a keep-alive); the caller forgets them, and the plan
   * is made as if none had been sent.
   */
  rearmed: boolean;
}

/** Decides the next step of the warning schedule. Pure: no clock, no I/O. */
export function planWarnings(input: WarningScheduleInput): WarningPlan {
  const { now, since, limitMs, leadMs } = input;
  const reached = since + limitMs;
  const dueAt = Math.max(reached, input.notBefore ?? reached);
  const finalWarningAt = dueAt - (1 - input.finalFraction) * limitMs;
  // The first warning also comes at least the lead before the final one: with
  // a short limit the fractions alone put them closer together than the job's
  // schedule (30 min: 4.5 min apart for a 5-minute cron), and the first was skipped.
  const firstWarningAt = Math.min(dueAt - (1 - input.firstFraction) * limitMs, finalWarningAt - leadMs);

  let sent = input.sent;
  const rearmed = (sent.firstAt != null || sent.finalAt != null) && sent.dueAt != null && dueAt > sent.dueAt;
  if (rearmed) sent = {};

  const plan = (step: WarningStep, actAt: number): WarningPlan => ({ step, dueAt, actAt, firstWarningAt, finalWarningAt, rearmed });

  if (sent.finalAt != null) {
    const actAt = Math.max(dueAt, sent.finalAt + leadMs);
    return plan(now >= actAt ? 'act' : 'wait', actAt);
  }
  if (now >= finalWarningAt) return plan('final', Math.max(dueAt, now + leadMs));
  const projected = Math.max(dueAt, finalWarningAt + leadMs);
  if (now >= firstWarningAt && sent.firstAt == null) return plan('first', projected);
  return plan(sent.firstAt != null ? 'wait' : 'none', projected);
}
