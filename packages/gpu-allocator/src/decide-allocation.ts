import { formatDuration } from '@ds01/events-core/time';
import type { Inventory, Slot } from './inventory/types.js';
import { holdExpired, type Occupant, usageOf, weightOf } from './occupancy.js';
import type { GpuLimits } from './read-limits.js';
import type { Allocation, GpuState } from './state/types.js';

export type Prefer = 'full' | 'mig';

export interface AllocationRequest {
  user: string;
  count: number;
  prefer?: Prefer | undefined;
}

export interface Granted {
  ok: true;
  slots: Slot[];
  /** Expired holds taken over (their allocations become revoked). */
  reclaim: Allocation[];
  usageBefore: number;
  usageAfter: number;
  limit: number | null;
}

export interface Refused {
  ok: false;
  /** DS01's codes: USER_AT_LIMIT, EXCEEDS_CONTAINER_LIMIT, AGGREGATE_GPU_QUOTA_EXCEEDED, FULL_GPU_NOT_ALLOWED, NO_GPU_AVAILABLE. */
  reason: string;
  /** DS01's reason string with numbers, e.g. `USER_AT_LIMIT (2/2)`, for shell callers. */
  detail: string;
  retryable: boolean;
  message: string;
  usage: number;
  limit: number | null;
}

export type Decision = Granted | Refused;

const EPS = 1e-9;

/** printf %g-like: DS01's reason strings print 1 and 0.5, not 1.0000. */
export function g(n: number): string {
  return String(Number(n.toFixed(4)));
}

function order(slots: Slot[], allowFull: boolean, prefer: Prefer | undefined): Slot[] {
  const whole = slots.filter((s) => !s.mig);
  const mig = slots.filter((s) => s.mig);
  if (prefer === 'full') return whole;
  if (prefer === 'mig') return allowFull ? [...mig, ...whole] : mig;
  // DS01's default: whole GPUs first for users allowed them, otherwise MIG only. Slots stay in numeric order.
  return allowFull ? [...whole, ...mig] : mig;
}

function describeHolders(occupied: Map<string, Occupant>, slots: Slot[], now: number): string {
  const parts: string[] = [];
  for (const s of slots) {
    const o = occupied.get(s.uuid);
    if (!o) continue;
    const a = o.allocation;
    if (a) {
      const what =
        a.state === 'held'
          ? a.hold_until
            ? Date.parse(a.hold_until) <= now
              ? `hold expired ${a.hold_until.slice(11, 16)} UTC`
              : `held until ${a.hold_until.slice(11, 16)} UTC (${formatDuration(Date.parse(a.hold_until) - now)})`
            : 'held until removed'
          : a.state === 'pending'
            ? 'being created'
            : 'in use';
      parts.push(`${s.slot} ${a.user}/${a.container} ${what}`);
    } else if (o.unmanaged?.length) {
      parts.push(`${s.slot} unmanaged ${o.unmanaged[0]?.name}`);
    }
  }
  const shown = parts.slice(0, 6);
  return shown.join('; ') + (parts.length > shown.length ? `; +${parts.length - shown.length} more` : '');
}

/**
 * Decides a GPU request against the user's limits and the free slots.
 * Pure: it reads the state and changes nothing. A request is charged the
 * weight of the slots actually chosen (DS01 charged every request 1.0 and
 * counted MIG slots as 0). Expired holds are taken over only when nothing
 * else fits (`allowReclaim`).
 */
export function decideAllocation(
  req: AllocationRequest,
  inventory: Inventory,
  state: GpuState,
  occupied: Map<string, Occupant>,
  limits: GpuLimits,
  now: number,
): Decision {
  const first = decide(req, inventory, state, occupied, limits, now, false);
  if (first.ok) return first;
  return decide(req, inventory, state, occupied, limits, now, true);
}

function decide(
  req: AllocationRequest,
  inventory: Inventory,
  state: GpuState,
  occupied: Map<string, Occupant>,
  limits: GpuLimits,
  now: number,
  allowReclaim: boolean,
): Decision {
  const n = req.count;
  const max = limits.maxGpuEquivalents.value;
  const agg = limits.aggregateGpuLimit.value;
  const cap = limits.maxSlotsPerContainer.value;
  const allowFull = limits.allowFullGpu.value;
  const usage = usageOf(state, req.user);
  const limit = max;
  const refuse = (reason: string, detail: string, retryable: boolean, message: string, u = usage): Refused => ({
    ok: false,
    reason,
    detail,
    retryable,
    message,
    usage: Number(u.toFixed(4)),
    limit,
  });

  if (cap !== null && n > cap) {
    return refuse(
      'EXCEEDS_CONTAINER_LIMIT',
      `EXCEEDS_CONTAINER_LIMIT (${n}>${cap})`,
      false,
      `${n} GPUs in one container is over your limit of ${cap} (max_gpu_slots_per_container, ${limits.maxSlotsPerContainer.source}); ask for ${cap} or fewer.`,
    );
  }
  if (req.prefer === 'full' && !allowFull) {
    return refuse(
      'FULL_GPU_NOT_ALLOWED',
      `FULL_GPU_NOT_ALLOWED (group=${limits.group}, allow_full_gpu=false)`,
      false,
      `Your group (${limits.group}) may not use whole GPUs (allow_full_gpu: false); ask for a MIG slice with --prefer mig.`,
    );
  }
  if (inventory.slots.length === 0) {
    return refuse('NO_GPU_AVAILABLE', 'NO_GPU_AVAILABLE (no GPUs on this host)', false, 'This host has no usable GPU or MIG slot.');
  }
  const usable = order(inventory.slots, allowFull, req.prefer);
  if (usable.length === 0) {
    if (!allowFull) {
      return refuse(
        'FULL_GPU_NOT_ALLOWED',
        `FULL_GPU_NOT_ALLOWED (group=${limits.group}, allow_full_gpu=false)`,
        false,
        `This host has only whole GPUs and your group (${limits.group}) may not use them (allow_full_gpu: false); ask an admin.`,
      );
    }
    return refuse(
      'NO_GPU_AVAILABLE',
      'NO_GPU_AVAILABLE (no whole GPUs: every GPU is in MIG mode)',
      false,
      'Every GPU here is split into MIG slices; drop --prefer full.',
    );
  }
  if (usable.length < n) {
    return refuse(
      'NO_GPU_AVAILABLE',
      `NO_GPU_AVAILABLE (host has ${usable.length} usable slots)`,
      false,
      `You asked for ${n} GPUs but this host has only ${usable.length} slots you may use; ask for fewer.`,
    );
  }

  // Own expired holds stop counting against the user when reclaiming is allowed.
  const ownExpired = allowReclaim
    ? state.allocations.filter((a) => a.user === req.user && holdExpired(a, now)).sort((x, y) => x.changed_at - y.changed_at)
    : [];
  const reclaimableUsage = ownExpired.reduce((s, a) => s + weightOf(a), 0);
  const effective = usage - reclaimableUsage;
  const lightest = usable
    .map((s) => s.weight)
    .sort((a, b) => a - b)
    .slice(0, n)
    .reduce((s, w) => s + w, 0);

  if (agg !== null && effective + lightest > agg + EPS) {
    return refuse(
      'AGGREGATE_GPU_QUOTA_EXCEEDED',
      `AGGREGATE_GPU_QUOTA_EXCEEDED (${g(usage)}+${g(lightest)}>${g(agg)})`,
      false,
      `You hold ${g(usage)} GPU-equivalents; ${g(lightest)} more would pass your aggregate limit of ${g(agg)} (aggregate.gpu_limit, ${limits.aggregateGpuLimit.source}). Remove a stopped container to free its GPU.`,
    );
  }
  if (max !== null && effective + lightest > max + EPS) {
    return refuse(
      'USER_AT_LIMIT',
      `USER_AT_LIMIT (${g(usage)}/${g(max)})`,
      false,
      `You hold ${g(usage)} of your ${g(max)} GPU-equivalents (max_gpu_equivalents, ${limits.maxGpuEquivalents.source}); ${g(lightest)} more does not fit. Remove a stopped container to free its GPU.`,
    );
  }

  const budget = Math.min(max ?? Number.POSITIVE_INFINITY, agg ?? Number.POSITIVE_INFINITY) - effective;
  const isFree = (s: Slot) => {
    const o = occupied.get(s.uuid);
    if (!o) return true;
    if (o.unmanaged?.length) return false;
    return allowReclaim && o.allocation !== undefined && holdExpired(o.allocation, now);
  };
  const free = usable.filter(isFree);
  const minWeight = Math.min(...free.map((s) => s.weight));
  const picked: Slot[] = [];
  let weight = 0;
  for (const s of free) {
    if (picked.length === n) break;
    const rest = n - picked.length - 1;
    if (weight + s.weight + rest * minWeight <= budget + EPS) {
      picked.push(s);
      weight += s.weight;
    }
  }
  if (picked.length < n) {
    const holders = describeHolders(occupied, usable, now);
    const why =
      free.length >= n
        ? `no free slot small enough for the ${g(Math.max(0, budget))} GPU-equivalents left of your limit`
        : `${free.length} of the ${usable.length} slots you may use ${free.length === 1 ? 'is' : 'are'} free, you asked for ${n}`;
    return refuse(
      'NO_GPU_AVAILABLE',
      `NO_GPU_AVAILABLE (${free.length} free, ${n} requested)`,
      true,
      `No GPU available: ${why}.${holders ? ` Taken: ${holders}.` : ''} Try again later.`,
    );
  }

  const reclaim: Allocation[] = [];
  for (const s of picked) {
    const a = occupied.get(s.uuid)?.allocation;
    if (a && !reclaim.includes(a)) reclaim.push(a);
  }
  // Revoke as many of the user's own expired holds as the limit needs, oldest first.
  let after = usage + weight - reclaim.filter((a) => a.user === req.user).reduce((s, a) => s + weightOf(a), 0);
  const ceiling = Math.min(max ?? Number.POSITIVE_INFINITY, agg ?? Number.POSITIVE_INFINITY);
  for (const a of ownExpired) {
    if (after <= ceiling + EPS) break;
    if (reclaim.includes(a)) continue;
    reclaim.push(a);
    after -= weightOf(a);
  }
  return { ok: true, slots: picked, reclaim, usageBefore: usage, usageAfter: after, limit };
}
