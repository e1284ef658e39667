import { type CommandContext, mayActFor } from '../context.js';
import { isLive } from '../docker/snapshot.js';
import { releaseEvent } from '../events.js';
import { type CommandResult, kv, refused, releasedJson } from '../result.js';
import { type Allocation, holdsGpus, type ReleaseReason } from '../state/types.js';
import { prepare, transact } from '../transaction.js';

export const RELEASE_REASONS: ReleaseReason[] = ['manual', 'removed', 'hold_expired', 'reservation_expired', 'revoked', 'create_failed'];

function matches(a: Allocation, ref: string): boolean {
  if (a.container === ref) return true;
  if (!a.container_id) return false;
  return a.container_id === ref || (ref.length >= 12 && a.container_id.startsWith(ref));
}

/**
 * Gives a container's slots back. A container that still exists keeps a
 * revoked record, so starting it again asks for GPUs again (and is refused
 * when they are gone); a running container's GPUs are never released from
 * under it.
 */
export async function release(ctx: CommandContext, ref: string, reason: ReleaseReason = 'manual'): Promise<CommandResult> {
  const prep = await prepare({ inventory: false });
  const { result, tx } = await transact(ctx, prep, (state, tx) => {
    const found = state.allocations.filter((a) => matches(a, ref));
    const denied = found.find((a) => !mayActFor(ctx.caller, a.user));
    if (denied) return refused('PERMISSION_DENIED', `${ref} belongs to ${denied.user}; only they or an admin may release it.`);
    const running = found.find((a) => holdsGpus(a) && a.container_id && isLive(prep.snapshot.containers.get(a.container_id)?.state ?? ''));
    const runningView = running?.container_id ? prep.snapshot.containers.get(running.container_id) : undefined;
    if (runningView && runningView.state !== 'created') {
      return refused('CONTAINER_RUNNING', `${ref} is ${runningView.state} on its GPUs; stop it first, then release.`);
    }
    const released: ReturnType<typeof releasedJson>[] = [];
    for (const a of found) {
      const exists = a.container_id ? prep.snapshot.containers.has(a.container_id) : false;
      if (holdsGpus(a)) {
        released.push(releasedJson(a, reason));
        tx.events.push(releaseEvent(a, reason));
      }
      if (exists) {
        a.state = 'revoked';
        a.revoked_reason = reason;
        a.hold_until = null;
        a.expires_at = null;
        a.changed_at = tx.now;
      } else {
        if (a.container_id) state.removed[a.container_id] = tx.now;
        state.allocations.splice(state.allocations.indexOf(a), 1);
      }
    }
    return {
      code: 0,
      json: { status: 'released', released },
      lines: [kv('STATUS', 'RELEASED'), kv('RELEASED', released.map((r) => r.container).join(','))],
    } satisfies CommandResult;
  });
  // A sync in the same call may have released it already (container removed): report that too.
  if (result.code === 0) {
    const list = result.json.released as ReturnType<typeof releasedJson>[];
    for (const c of tx.sync.changes) {
      if (c.kind === 'release' && matches(c.allocation, ref) && !list.some((r) => r.container === c.allocation.container)) {
        list.push(releasedJson(c.allocation, c.reason));
      }
    }
    result.lines[1] = kv('RELEASED', list.map((r) => r.container).join(','));
  }
  return result;
}
