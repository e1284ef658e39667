import type { ExemptionDecision } from '@ds01/events-core/config';
import { planWarnings } from '@ds01/events-core/jobs';
import { FINAL_WARNING_FRACTION, FIRST_WARNING_FRACTION } from './resolve-runtime-policy.js';
import type { WarningMarks } from './runtime-state.js';

export type Decision =
  /** Under the warning points (or warned and not yet due): nothing to send. */
  | { kind: 'ok'; stopAt: number }
  | { kind: 'warn'; level: 'first' | 'final'; stopAt: number /** When the limit is reached (kept with the marks). */; dueAt: number }
  | { kind: 'wait'; stopAt: number }
  | { kind: 'stop'; stopAt: number }
  /** The owner is exempt; `notify` when the limit is passed and they were not told yet. */
  | { kind: 'exempt'; notify: boolean; limitReached: boolean; reason: string; expires: number | null }
  | { kind: 'no_limit' };

export interface DecideInput {
  now: number;
  runtimeMs: number;
  maxRuntimeH: number | null;
  leadMs: number;
  exemption: ExemptionDecision;
  exemptNotified: boolean;
  marks: WarningMarks;
  /**
   * The container restarted without a stop anyone saw: the stop time moved later by the
   * moment it was down, which must not count as a new schedule (and re-arm the warnings).
   */
  keepWarnings?: boolean;
}

export interface DecideResult {
  decision: Decision;
  /** The marks to keep: emptied when the announced stop time moved later (e.g. a larger limit). */
  marks: WarningMarks;
}

/** What to do about one running container. Pure: no clock, no I/O. */
export function decide(input: DecideInput): DecideResult {
  const { now, runtimeMs, maxRuntimeH, leadMs } = input;
  if (maxRuntimeH === null) return { decision: { kind: 'no_limit' }, marks: input.marks };
  const limitMs = maxRuntimeH * 3_600_000;
  if (input.exemption.exempt) {
    const limitReached = runtimeMs >= limitMs;
    return {
      decision: {
        kind: 'exempt',
        notify: limitReached && !input.exemptNotified,
        limitReached,
        reason: input.exemption.reason ?? 'exempt',
        expires: input.exemption.expires ?? null,
      },
      marks: input.marks,
    };
  }
  const since = now - runtimeMs;
  let sent = input.marks;
  if (input.keepWarnings && sent.dueAt != null && sent.dueAt < since + limitMs) sent = { ...sent, dueAt: since + limitMs };
  const plan = planWarnings({
    now,
    since,
    limitMs,
    firstFraction: FIRST_WARNING_FRACTION,
    finalFraction: FINAL_WARNING_FRACTION,
    leadMs,
    sent,
  });
  const marks = plan.rearmed ? {} : sent;
  switch (plan.step) {
    case 'first':
    case 'final':
      return { decision: { kind: 'warn', level: plan.step, stopAt: plan.actAt, dueAt: plan.dueAt }, marks };
    case 'wait':
      return { decision: { kind: 'wait', stopAt: plan.actAt }, marks };
    case 'act':
      return { decision: { kind: 'stop', stopAt: plan.actAt }, marks };
    default:
      return { decision: { kind: 'ok', stopAt: plan.actAt }, marks };
  }
}
