import { planWarnings, type WarningPlan } from '@ds01/events-core/jobs';
import { type ContainerEntry, SAMPLES_KEPT, type Sample } from './idle-state.js';

export const FIRST_WARNING_FRACTION = 0.8;
export const FINAL_WARNING_FRACTION = 0.95;

export interface Thresholds {
  /** GPU utilisation % at or over which a GPU is busy. */
  gpu: number;
  /** CPU % of one core over which the container is busy. */
  cpu: number;
  /** Bytes received+sent per interval over which the container is busy. */
  network: number;
}

/** What one run saw of one container. */
export interface Observation {
  now: number;
  name: string;
  user: string | null;
  startedAt: number | null;
  cpuNs: number | null;
  netBytes: number | null;
  gpuProcesses: number;
  gpuUtil: number | null;
  execs: number;
  /** mtime of /workspace/.keep-alive, when there is one. */
  keepAliveMtime: number | null;
}

export interface IdleRules {
  thresholds: Thresholds;
  /** The idle timeout in force (high demand already applied); null: no idle limit. */
  timeoutMs: number | null;
  /** Stops never come earlier than this long after the container started. */
  graceMs: number;
  /** The final warning goes out at least this long before a stop. */
  leadMs: number;
  /** Longest a keep-alive file can postpone a stop; null: keep-alive files are not honoured. */
  keepAliveMaxMs: number | null;
  exempt: boolean;
}

export type IdleAction = 'none' | 'first' | 'final' | 'stop' | 'exempt_notice';

export interface IdleDecision {
  entry: ContainerEntry;
  sample: Sample;
  /** `baseline`: first sample (or first after a restart); `active`; `idle`; `no_timeout`. */
  status: 'baseline' | 'active' | 'idle' | 'no_timeout';
  /** True when the previous entry belonged to an earlier start of this container. */
  restarted: boolean;
  idleMs: number;
  action: IdleAction;
  plan: WarningPlan | null;
  /** Set when a keep-alive file postpones the stop and the user has not been told about this one yet. */
  keepAliveReport: { until: number } | null;
  /** Set while a keep-alive file postpones the stop. */
  keepAliveUntil: number | null;
  reason: string;
}

function newEntry(o: Observation): ContainerEntry {
  return {
    name: o.name,
    user: o.user,
    started_at: o.startedAt,
    first_seen_at: o.now,
    last_sample_at: o.now,
    last_active_at: o.now,
    counters: { cpu_ns: o.cpuNs, net_bytes: o.netBytes },
    samples: [],
    warnings: { first_at: null, final_at: null, due_at: null },
    exempt_notice_at: null,
    keep_alive_reported_until: null,
  };
}

function delta(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || current < previous) return null;
  return current - previous;
}

const round = (n: number | null, digits = 2): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/**
 * Judges one container from this run's observation and the previous entry.
 * Pure: it returns the new entry and what to do; the caller acts.
 */
export function decideIdle(previous: ContainerEntry | undefined, o: Observation, rules: IdleRules): IdleDecision {
  const restarted = previous !== undefined && previous.started_at !== o.startedAt;
  const prior = restarted ? undefined : previous;
  const entry: ContainerEntry = prior ? structuredClone(prior) : newEntry(o);
  entry.name = o.name;
  entry.user = o.user;

  const intervalMs = prior ? o.now - prior.last_sample_at : 0;
  const cpuNs = prior ? delta(o.cpuNs, prior.counters.cpu_ns) : null;
  const cpuPct = cpuNs !== null && intervalMs > 0 ? (cpuNs / 1e6 / intervalMs) * 100 : null;
  const netBytes = prior ? delta(o.netBytes, prior.counters.net_bytes) : null;

  const active: string[] = [];
  if (o.gpuProcesses > 0) active.push('gpu_process');
  if (o.gpuUtil !== null && o.gpuUtil >= rules.thresholds.gpu) active.push('gpu_util');
  if (cpuPct !== null && cpuPct > rules.thresholds.cpu) active.push('cpu');
  if (netBytes !== null && netBytes > rules.thresholds.network) active.push('network');
  if (o.execs > 0) active.push('exec');

  const sample: Sample = {
    at: new Date(o.now).toISOString(),
    cpu_pct: round(cpuPct),
    net_bytes: netBytes,
    gpu_processes: o.gpuProcesses,
    gpu_util: o.gpuUtil,
    execs: o.execs,
    active,
  };
  entry.samples = [...entry.samples, sample].slice(-SAMPLES_KEPT);
  entry.last_sample_at = o.now;
  entry.counters = { cpu_ns: o.cpuNs, net_bytes: o.netBytes };

  const base = { entry, sample, restarted, plan: null, keepAliveReport: null, keepAliveUntil: null };
  if (!prior) {
    return {
      ...base,
      status: 'baseline',
      idleMs: 0,
      action: 'none',
      reason: restarted ? 'restarted: new baseline' : 'first sample: baseline',
    };
  }
  if (active.length > 0) {
    entry.last_active_at = o.now;
    entry.warnings = { first_at: null, final_at: null, due_at: null };
    entry.keep_alive_reported_until = null;
    return { ...base, status: 'active', idleMs: 0, action: 'none', reason: `active: ${active.join(', ')}` };
  }

  const idleMs = o.now - entry.last_active_at;
  if (rules.timeoutMs === null)
    return { ...base, status: 'no_timeout', idleMs, action: 'none', reason: 'idle, but no idle timeout applies' };

  const graceEnd = o.startedAt === null ? null : o.startedAt + rules.graceMs;
  const baseDue = Math.max(entry.last_active_at + rules.timeoutMs, graceEnd ?? 0);
  let keepAliveUntil: number | null = null;
  if (o.keepAliveMtime !== null && rules.keepAliveMaxMs !== null) {
    // The file postpones the stop to its mtime plus the maximum, but never more
    // than the maximum past the time the stop was due: touching it again and
    // again cannot keep a GPU forever.
    const until = Math.min(o.keepAliveMtime + rules.keepAliveMaxMs, baseDue + rules.keepAliveMaxMs);
    if (until > baseDue) keepAliveUntil = until;
  }
  const plan = planWarnings({
    now: o.now,
    since: entry.last_active_at,
    limitMs: rules.timeoutMs,
    notBefore: Math.max(graceEnd ?? 0, keepAliveUntil ?? 0) || null,
    firstFraction: FIRST_WARNING_FRACTION,
    finalFraction: FINAL_WARNING_FRACTION,
    leadMs: rules.leadMs,
    sent: { firstAt: entry.warnings.first_at, finalAt: entry.warnings.final_at, dueAt: entry.warnings.due_at },
  });
  if (plan.rearmed) entry.warnings = { first_at: null, final_at: null, due_at: null };

  let keepAliveReport: IdleDecision['keepAliveReport'] = null;
  const wouldWarnAt = baseDue - (1 - FIRST_WARNING_FRACTION) * rules.timeoutMs;
  if (keepAliveUntil !== null && o.now >= wouldWarnAt && entry.keep_alive_reported_until !== keepAliveUntil) {
    keepAliveReport = { until: keepAliveUntil };
    entry.keep_alive_reported_until = keepAliveUntil;
  }
  const withPlan = { ...base, status: 'idle' as const, idleMs, plan, keepAliveReport, keepAliveUntil };

  if (rules.exempt) {
    const due = plan.step !== 'none';
    if (due && entry.exempt_notice_at === null) {
      entry.exempt_notice_at = o.now;
      return { ...withPlan, action: 'exempt_notice', reason: 'idle past the warning point; owner exempt' };
    }
    return { ...withPlan, action: 'none', reason: due ? 'idle past the warning point; owner exempt (notified)' : 'idle' };
  }
  switch (plan.step) {
    case 'first':
      entry.warnings = { first_at: o.now, final_at: null, due_at: plan.dueAt };
      return { ...withPlan, action: 'first', reason: 'idle: first warning' };
    case 'final':
      entry.warnings = { first_at: entry.warnings.first_at, final_at: o.now, due_at: plan.dueAt };
      return { ...withPlan, action: 'final', reason: 'idle: final warning' };
    case 'act':
      return { ...withPlan, action: 'stop', reason: 'idle past its timeout, final warning given' };
    case 'wait':
      return { ...withPlan, action: 'none', reason: 'idle, warned; stop not before the lead time has passed' };
    default:
      return { ...withPlan, action: 'none', reason: keepAliveUntil !== null ? 'idle; keep-alive postpones the stop' : 'idle' };
  }
}
