import { randomUUID } from 'node:crypto';
import { logEvent } from '@ds01/events-core';
import { type CommandContext, mayActFor } from '../context.js';
import { decideAllocation, type Prefer } from '../decide-allocation.js';
import { refs, releaseEvent, SOURCE } from '../events.js';
import { occupancy, usageOf, weightOf } from '../occupancy.js';
import { allocationSettings, readGpuLimits } from '../read-limits.js';
import { type CommandResult, gpuJson, kv, round } from '../result.js';
import { type Allocation, holdsGpus } from '../state/types.js';
import { type Prepared, prepare, transact } from '../transaction.js';

export interface AllocateOptions {
  user: string;
  /** Optional for `check`. */
  container?: string | undefined;
  count: number;
  prefer?: Prefer | undefined;
  /** `check`: answer what allocate would, change nothing. */
  checkOnly?: boolean;
}

const QUOTA = new Set(['USER_AT_LIMIT', 'EXCEEDS_CONTAINER_LIMIT', 'AGGREGATE_GPU_QUOTA_EXCEEDED', 'FULL_GPU_NOT_ALLOWED']);

function rejected(
  o: AllocateOptions,
  r: { reason: string; detail?: string; retryable: boolean; message: string; usage: number; limit: number | null },
): CommandResult {
  return {
    code: 1,
    json: {
      status: 'rejected',
      reason: r.reason,
      retryable: r.retryable,
      message: r.message,
      usage: round(r.usage),
      limit: r.limit,
      requested: o.count,
      detail: r.detail ?? r.reason,
      container: o.container ?? null,
      user: o.user,
      ...(o.checkOnly ? { check: true } : {}),
    },
    lines: [
      kv('STATUS', QUOTA.has(r.reason) ? 'QUOTA_EXCEEDED' : 'FAILED'),
      kv('REASON', r.detail ?? r.reason),
      kv('RETRYABLE', r.retryable),
      kv('MESSAGE', r.message),
    ],
  };
}

function allocated(
  a: Allocation | null,
  o: AllocateOptions,
  gpus: Allocation['gpus'],
  usage: number,
  limit: number | null,
  reusedHold: boolean,
): CommandResult {
  const weight = gpus.reduce((s, x) => s + x.weight, 0);
  return {
    code: 0,
    json: {
      status: 'allocated',
      reservation: a?.id ?? null,
      container: o.container ?? null,
      user: o.user,
      gpus: gpuJson(gpus),
      usage: round(usage),
      limit,
      reused_hold: reusedHold,
      weight: round(weight),
      state: a?.state ?? null,
      expires_at: a?.expires_at ?? null,
      ...(o.checkOnly ? { check: true } : {}),
    },
    lines: [
      kv('STATUS', 'SUCCESS'),
      kv('RESERVATION', a?.id ?? ''),
      kv('DOCKER_ID', gpus[0]?.uuid ?? ''),
      kv('DOCKER_IDS', gpus.map((x) => x.uuid).join(',')),
      kv('GPU_SLOTS', gpus.map((x) => x.slot).join(',')),
      kv('SLOT_COUNT', gpus.length),
      kv('GPU_EQUIV', round(weight)),
      kv('USAGE', round(usage)),
      kv('LIMIT', limit === null ? 'unlimited' : limit),
    ],
  };
}

/**
 * `allocate` reserves slots for a container about to be created (state
 * pending until `bind` or until the container appears, expiring after the
 * reservation TTL); `check` answers the same question and changes nothing.
 * Idempotent per container name.
 */
export async function allocate(ctx: CommandContext, o: AllocateOptions, prepared?: Promise<Prepared>): Promise<CommandResult> {
  const limits = readGpuLimits(ctx.config, o.user);
  const limit = limits.maxGpuEquivalents.value;
  if (!o.checkOnly && !mayActFor(ctx.caller, o.user)) {
    const message = `${ctx.caller.user} may not allocate GPUs for ${o.user} (only admins act for others).`;
    logEvent('gpu.reject', {
      user: o.user,
      source: SOURCE,
      details: { container: o.container ?? '', reason: 'PERMISSION_DENIED', message, requested: o.count, retryable: false },
    });
    return rejected(o, { reason: 'PERMISSION_DENIED', retryable: false, message, usage: 0, limit });
  }
  // Prepared beforehand by `allocate --stdin` (commands/allocate-session.ts), while the request was still on its way.
  const prep = await (prepared ?? prepare());
  const ttl = allocationSettings(ctx.config).reservationTtlS;
  const { result } = await transact(
    ctx,
    prep,
    (state, tx) => {
      const existing = o.container ? state.allocations.find((a) => holdsGpus(a) && a.container === o.container) : undefined;
      if (existing) {
        if (existing.user !== o.user) {
          return rejected(o, {
            reason: 'CONTAINER_IN_USE',
            retryable: false,
            message: `The container name ${o.container} already has GPUs allocated to ${existing.user}; choose another name.`,
            usage: usageOf(state, o.user),
            limit,
          });
        }
        return allocated(existing, o, existing.gpus, usageOf(state, o.user), limit, existing.state === 'held');
      }
      const reject = (r: Parameters<typeof rejected>[1]) => {
        if (!o.checkOnly) {
          tx.events.push(() =>
            logEvent('gpu.reject', {
              user: o.user,
              source: SOURCE,
              details: {
                container: o.container ?? '',
                reason: r.reason,
                message: r.message,
                requested: o.count,
                usage: round(r.usage),
                limit: r.limit,
                retryable: r.retryable,
              },
            }),
          );
        }
        return rejected(o, r);
      };
      if (!prep.inventory) {
        return reject({
          reason: 'NVIDIA_SMI_FAILED',
          retryable: false,
          message: `Cannot read the GPUs, so none is handed out: ${prep.inventoryError}. Tell an admin.`,
          usage: usageOf(state, o.user),
          limit,
        });
      }
      const occupied = occupancy(state, tx.sync.unmanaged);
      const decision = decideAllocation(
        { user: o.user, count: o.count, prefer: o.prefer },
        prep.inventory,
        state,
        occupied,
        limits,
        tx.now,
      );
      if (!decision.ok) return reject(decision);
      const gpus = decision.slots.map((s) => ({ uuid: s.uuid, slot: s.slot, weight: s.weight }));
      if (o.checkOnly) return allocated(null, o, gpus, decision.usageAfter, limit, false);

      for (const old of decision.reclaim) {
        old.state = 'revoked';
        old.revoked_reason = 'revoked';
        old.changed_at = tx.now;
        tx.events.push(releaseEvent(old, 'revoked', `hold expired; reclaimed for ${o.user}/${o.container}`));
      }
      const a: Allocation = {
        id: `r-${randomUUID()}`,
        user: o.user,
        container: o.container as string,
        container_id: null,
        state: 'pending',
        gpus,
        created_at: new Date(tx.now).toISOString(),
        changed_at: tx.now,
        expires_at: new Date(tx.now + ttl * 1000).toISOString(),
        hold_until: null,
      };
      state.allocations.push(a);
      const usage = usageOf(state, o.user);
      tx.events.push(() =>
        logEvent('gpu.allocate', {
          user: o.user,
          source: SOURCE,
          details: {
            container: a.container,
            reservation: a.id,
            gpus: refs(a.gpus),
            weight: round(weightOf(a)),
            usage_after: round(usage),
            limit,
            reused_hold: false,
          },
        }),
      );
      return allocated(a, o, gpus, usage, limit, false);
    },
    { dryRun: o.checkOnly === true },
  );
  return result;
}
