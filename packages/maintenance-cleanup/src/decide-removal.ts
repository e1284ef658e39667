import { hoursToMs, minutesToMs, resolveLifecycleLimit, resolveUserLimits, type SiteConfig } from '@ds01/events-core/config';
import type { ClassifiedContainer } from '@ds01/events-core/jobs';
import { formatDuration } from '@ds01/events-core/time';

/** `gpu`: stopped GPU containers past their GPU hold. `containers`: created/exited/dead containers past their limits. */
export type Phase = 'gpu' | 'containers';

export type RemoveReason = 'created_never_started' | 'hold_expired' | 'dead';
export type HoldKey = 'gpu_hold_after_stop_h' | 'container_hold_after_stop_h' | 'created_container_timeout_m';

export interface Decision {
  action: 'remove' | 'keep';
  /** For `remove`: the event reason. For `keep`: a short code (running, hold_pending, no_limit, ...). */
  reason: string;
  /** One line for people. */
  detail: string;
  holdKey?: HoldKey;
  /** The limit in ms; null when the config disables it. */
  holdMs?: number | null;
  /** How long it has been stopped (exited/dead) or has existed (created). */
  stoppedForMs?: number;
  ageMs?: number;
  /** When the limit runs out (epoch ms), for kept containers. */
  removeAt?: number;
  /** A problem worth a warning event (e.g. no stop time). */
  warning?: string;
}

/** Owners the label contract cannot name get the default group's limits (then container_types). */
const UNKNOWN_OWNER = '';

const STOPPED = new Set(['exited', 'dead']);

function keep(reason: string, detail: string, extra: Partial<Decision> = {}): Decision {
  return { action: 'keep', reason, detail, ...extra };
}

/** A stopped container's stop time; a dead one that never recorded it counts from its creation. */
function stoppedAt(c: ClassifiedContainer): number | null {
  if (c.finishedAt !== null) return c.finishedAt;
  return c.status === 'dead' ? c.createdAt : null;
}

function judgeHold(
  c: ClassifiedContainer,
  key: 'gpu_hold_after_stop_h' | 'container_hold_after_stop_h',
  hours: number | null,
  source: string,
  now: number,
): Decision {
  const since = stoppedAt(c);
  if (since === null) {
    return keep('no_stop_time', `stopped, but Docker gives no stop time; left alone`, {
      holdKey: key,
      warning: `container ${c.name} is ${c.status} without a FinishedAt time; it is never removed automatically`,
    });
  }
  const stoppedForMs = Math.max(0, now - since);
  if (hours === null) {
    return keep('no_limit', `stopped ${formatDuration(stoppedForMs)}; ${key} is null (${source}): never removed`, {
      holdKey: key,
      holdMs: null,
      stoppedForMs,
    });
  }
  const holdMs = hoursToMs(hours);
  // Strictly past the hold, as DS01 did: at exactly the limit it is kept one more run.
  if (stoppedForMs > holdMs) {
    const reason: RemoveReason = c.status === 'dead' ? 'dead' : 'hold_expired';
    return {
      action: 'remove',
      reason,
      detail: `${c.status} for ${formatDuration(stoppedForMs)}, past ${key} ${hours}h (${source})`,
      holdKey: key,
      holdMs,
      stoppedForMs,
    };
  }
  return keep('hold_pending', `${c.status} for ${formatDuration(stoppedForMs)}; removed after ${key} ${hours}h (${source})`, {
    holdKey: key,
    holdMs,
    stoppedForMs,
    removeAt: since + holdMs,
  });
}

/** The GPU phase: a stopped GPU container whose owner's GPU hold has run out is removed. */
export function decideGpuPhase(c: ClassifiedContainer, config: SiteConfig, now: number): Decision | null {
  if (!c.gpu.hasGpu || !STOPPED.has(c.status)) return null;
  if (!c.owner) {
    return keep('unknown_owner', 'no owner label: its GPU hold cannot be resolved; the containers phase applies the container hold');
  }
  const { value, source } = resolveLifecycleLimit(config, c.owner, c.type, 'gpu_hold_after_stop_h');
  return judgeHold(c, 'gpu_hold_after_stop_h', value, source, now);
}

/** The containers phase: created-never-started past the timeout, exited or dead past the container hold. */
export function decideContainersPhase(c: ClassifiedContainer, config: SiteConfig, now: number): Decision {
  if (c.status === 'created') {
    const policies = resolveUserLimits(config, c.owner ?? UNKNOWN_OWNER).policies;
    const raw = policies.created_container_timeout_m;
    const minutes = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    if (c.createdAt === null) return keep('no_create_time', 'created, but Docker gives no creation time; left alone');
    const ageMs = Math.max(0, now - c.createdAt);
    if (minutes === null) {
      return keep('no_limit', `created ${formatDuration(ageMs)} ago, never started; created_container_timeout_m is null: never removed`, {
        holdKey: 'created_container_timeout_m',
        holdMs: null,
        ageMs,
      });
    }
    const limitMs = minutesToMs(minutes);
    if (ageMs > limitMs) {
      return {
        action: 'remove',
        reason: 'created_never_started',
        detail: `created ${formatDuration(ageMs)} ago and never started, past created_container_timeout_m ${minutes}m`,
        holdKey: 'created_container_timeout_m',
        holdMs: limitMs,
        ageMs,
      };
    }
    return keep('timeout_pending', `created ${formatDuration(ageMs)} ago, never started; removed after ${minutes}m`, {
      holdKey: 'created_container_timeout_m',
      holdMs: limitMs,
      ageMs,
      removeAt: c.createdAt + limitMs,
    });
  }
  if (STOPPED.has(c.status)) {
    const { value, source } = resolveLifecycleLimit(config, c.owner ?? UNKNOWN_OWNER, c.type, 'container_hold_after_stop_h');
    return judgeHold(c, 'container_hold_after_stop_h', value, source, now);
  }
  return keep('not_stopped', `${c.status}: only created, exited and dead containers are removed`);
}
