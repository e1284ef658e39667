import { logEvent } from '@ds01/events-core';
import { type CommandContext, mayActFor } from '../context.js';
import { containerById } from '../docker/snapshot.js';
import { refs, SOURCE } from '../events.js';
import { occupancy, usageOf, weightOf } from '../occupancy.js';
import { readGpuLimits } from '../read-limits.js';
import { type CommandResult, gpuJson, kv, refused, round } from '../result.js';
import { prepare, transact } from '../transaction.js';

const EPS = 1e-9;

function ok(managed: boolean, extra: Record<string, unknown> = {}): CommandResult {
  return { code: 0, json: { status: 'ok', managed, ...extra }, lines: [kv('STATUS', 'OK'), kv('MANAGED', managed)] };
}

/**
 * Called by the wrapper before `docker start|restart` of a GPU container. A
 * held allocation becomes active again with the same GPUs. A revoked one gets
 * its old GPUs back only if they are free and within the owner's limits;
 * otherwise the start is refused (ALLOCATION_REVOKED).
 */
export async function start(ctx: CommandContext, containerId: string): Promise<CommandResult> {
  const prep = await prepare({ focus: containerId });
  const view = containerById(prep.snapshot.containers, containerId) ?? prep.snapshot.byName.get(containerId);
  const cid = view?.id ?? containerId;
  const { result } = await transact(ctx, prep, (state, tx) => {
    const a = state.allocations.find((x) => x.container_id === cid);
    if (!a) return ok(false);
    if (!mayActFor(ctx.caller, a.user)) {
      return refused('PERMISSION_DENIED', `${a.container} belongs to ${a.user}; only they or an admin may start it.`);
    }
    if (a.state === 'active' || a.state === 'pending') return ok(true, { gpus: gpuJson(a.gpus), state: 'active' });
    if (a.state === 'held') {
      a.state = 'active';
      a.hold_until = null;
      a.stopped_at = null;
      a.changed_at = tx.now;
      return ok(true, { gpus: gpuJson(a.gpus), state: 'active', reused_hold: true });
    }
    // Revoked: the GPUs went to someone else, or the hold ran out and they were freed.
    const occ = occupancy(state, tx.sync.unmanaged);
    const taken = a.gpus.filter((x) => occ.has(x.uuid));
    const known = prep.inventory ? a.gpus.every((x) => prep.inventory?.slots.some((s) => s.uuid === x.uuid)) : false;
    const limits = readGpuLimits(ctx.config, a.user);
    const after = usageOf(state, a.user) + weightOf(a);
    const max = Math.min(
      limits.maxGpuEquivalents.value ?? Number.POSITIVE_INFINITY,
      limits.aggregateGpuLimit.value ?? Number.POSITIVE_INFINITY,
    );
    if (taken.length === 0 && known && after <= max + EPS) {
      a.state = 'active';
      a.revoked_reason = undefined;
      a.hold_until = null;
      a.stopped_at = null;
      a.changed_at = tx.now;
      const limit = limits.maxGpuEquivalents.value;
      tx.events.push(() =>
        logEvent('gpu.allocate', {
          user: a.user,
          source: SOURCE,
          details: {
            container: a.container,
            container_id: cid,
            reservation: a.id,
            gpus: refs(a.gpus),
            weight: round(weightOf(a)),
            usage_after: round(after),
            limit,
            reused_hold: true,
          },
        }),
      );
      return ok(true, { gpus: gpuJson(a.gpus), state: 'active', reused_hold: true });
    }
    const holders = taken
      .map((x) => {
        const o = occ.get(x.uuid);
        return o?.allocation ? `${x.slot} now used by ${o.allocation.user}/${o.allocation.container}` : `${x.slot} in use`;
      })
      .join('; ');
    const why = taken.length ? holders : !known ? 'its GPUs are no longer on this host' : 'your GPU limit is reached';
    return refused(
      'ALLOCATION_REVOKED',
      `${a.container} lost its GPUs (${a.revoked_reason ?? 'revoked'}): ${why}. Remove it and create a new container.`,
      { container: a.container, container_id: cid },
    );
  });
  return result;
}
