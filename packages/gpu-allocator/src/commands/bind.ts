import { type CommandContext, mayActFor } from '../context.js';
import { containerById } from '../docker/snapshot.js';
import { type CommandResult, gpuJson, kv, refused } from '../result.js';
import { prepare, transact } from '../transaction.js';

function bound(id: string, cid: string, gpus: Parameters<typeof gpuJson>[0]): CommandResult {
  return {
    code: 0,
    json: { status: 'bound', reservation: id, container_id: cid, gpus: gpuJson(gpus) },
    lines: [kv('STATUS', 'BOUND'), kv('RESERVATION', id), kv('CONTAINER_ID', cid), kv('DOCKER_IDS', gpus.map((x) => x.uuid).join(','))],
  };
}

/** Ties a reservation to the container created for it: pending becomes active. */
export async function bind(ctx: CommandContext, reservation: string, containerId: string): Promise<CommandResult> {
  const prep = await prepare({ inventory: false, focus: containerId });
  // Accept a short id, as `docker create` users see it.
  const view = containerById(prep.snapshot.containers, containerId);
  const cid = view?.id ?? containerId;
  const { result } = await transact(ctx, prep, (state, tx) => {
    const a =
      state.allocations.find((x) => x.id === reservation) ?? state.allocations.find((x) => x.container_id === cid && x.state !== 'revoked');
    if (!a) {
      return refused('UNKNOWN_RESERVATION', `No reservation ${reservation} (it may have expired); allocate again.`, { reservation });
    }
    if (!mayActFor(ctx.caller, a.user)) {
      return refused('PERMISSION_DENIED', `Reservation ${a.id} belongs to ${a.user}, not ${ctx.caller.user}.`, { reservation });
    }
    if (view?.owner && view.owner !== a.user) {
      return refused('PERMISSION_DENIED', `Container ${view.name} belongs to ${view.owner}, not to ${a.user}.`, { reservation });
    }
    if (a.state === 'revoked') return refused('ALLOCATION_REVOKED', `Reservation ${a.id} was revoked; allocate again.`, { reservation });
    if (a.container_id && a.container_id !== cid) {
      return refused('RESERVATION_BOUND', `Reservation ${a.id} is already bound to container ${a.container_id.slice(0, 12)}.`, {
        reservation,
      });
    }
    const other = state.allocations.find((x) => x !== a && x.container_id === cid && x.state !== 'revoked');
    if (other) return refused('CONTAINER_BOUND', `Container ${cid.slice(0, 12)} already has allocation ${other.id}.`, { reservation });
    if (a.state === 'pending') {
      a.state = 'active';
      a.container_id = cid;
      a.expires_at = null;
      a.changed_at = tx.now;
      if (view) {
        a.container_type = view.type;
        if (view.name) a.container = view.name;
      }
    }
    return bound(a.id, cid, a.gpus);
  });
  return result;
}
