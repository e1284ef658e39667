import type { CommandContext } from '../context.js';
import { occupancy } from '../occupancy.js';
import { type CommandResult, gpuJson, kv, round } from '../result.js';
import { holdsGpus } from '../state/types.js';
import { prepare, transact } from '../transaction.js';

/**
 * Who holds which slot. Runs the same sync as every command (so it also
 * records stops, removals and unmanaged containers); `--container` narrows
 * the allocations shown.
 */
export async function status(ctx: CommandContext, container?: string): Promise<CommandResult> {
  const prep = await prepare();
  const { result } = await transact(ctx, prep, (state, tx) => {
    const occ = occupancy(state, tx.sync.unmanaged);
    const inv = prep.inventory;
    const gpus: Record<string, unknown>[] = [];
    let allocatedSlots = 0;
    let totalWeight = 0;
    let allocatedWeight = 0;
    for (const s of inv?.slots ?? []) {
      const o = occ.get(s.uuid);
      const a = o?.allocation;
      const u = o?.unmanaged?.[0];
      totalWeight += s.weight;
      if (a) {
        allocatedSlots += 1;
        allocatedWeight += s.weight;
      }
      gpus.push({
        uuid: s.uuid,
        slot: s.slot,
        name: s.name,
        weight: round(s.weight),
        mig: s.mig,
        state: a ? a.state : u ? 'unmanaged' : 'free',
        user: a?.user ?? u?.owner ?? null,
        container: a?.container ?? u?.name ?? null,
        container_id: a?.container_id ?? u?.id ?? null,
        hold_until: a?.state === 'held' ? a.hold_until : null,
        ...(a && u ? { also_used_by: o?.unmanaged?.map((c) => c.name) } : {}),
      });
    }
    for (const x of inv?.unusable ?? []) {
      gpus.push({ uuid: x.uuid, slot: x.slot, name: x.name, weight: 0, mig: true, state: 'unusable', reason: x.reason });
    }
    const matches = (a: (typeof state.allocations)[number]) =>
      !container ||
      a.container === container ||
      (a.container_id !== null && container.length >= 12 && a.container_id.startsWith(container));
    const allocations = state.allocations.filter(matches).map((a) => ({
      id: a.id,
      user: a.user,
      container: a.container,
      container_id: a.container_id,
      state: a.state,
      gpus: gpuJson(a.gpus),
      created_at: a.created_at,
      hold_until: a.hold_until,
      expires_at: a.expires_at,
      stopped_at: a.stopped_at ?? null,
      ...(a.revoked_reason ? { revoked_reason: a.revoked_reason } : {}),
    }));
    const unmanaged = tx.sync.unmanaged.map((u) => ({
      container: u.container.name,
      container_id: u.container.id,
      user: u.container.owner,
      devices: u.all ? ['all'] : u.devices,
      gpus: u.uuids,
    }));
    const conflicts = tx.sync.conflicts.map((c) => ({ container: c.container.name, container_id: c.container.id, gpus: c.uuids }));
    const summary = {
      total_slots: inv?.slots.length ?? 0,
      allocated_slots: allocatedSlots,
      total_weight: round(totalWeight),
      allocated_weight: round(allocatedWeight),
      unmanaged_slots: (inv?.slots ?? []).filter((s) => occ.get(s.uuid)?.unmanaged?.length && !occ.get(s.uuid)?.allocation).length,
    };
    const lines = [
      kv('TOTAL_SLOTS', summary.total_slots),
      kv('ALLOCATED_SLOTS', summary.allocated_slots),
      kv('TOTAL_WEIGHT', summary.total_weight),
      kv('ALLOCATED_WEIGHT', summary.allocated_weight),
      ...(prep.inventoryError && !inv ? [kv('INVENTORY_ERROR', prep.inventoryError)] : []),
      ...gpus.map(
        (x) =>
          `SLOT=${x.slot} ${kv('UUID', x.uuid)} ${kv('STATE', x.state)} ${kv('USER', x.user ?? '')} ${kv('CONTAINER', x.container ?? '')}` +
          (x.hold_until ? ` ${kv('HOLD_UNTIL', x.hold_until)}` : ''),
      ),
    ];
    const json: Record<string, unknown> = {
      gpus,
      allocations,
      summary,
      unmanaged,
      conflicts,
      holding_users: [...new Set(state.allocations.filter(holdsGpus).map((a) => a.user))].sort(),
    };
    if (!inv) json.inventory_error = prep.inventoryError;
    return { code: 0, json, lines } satisfies CommandResult;
  });
  return result;
}
