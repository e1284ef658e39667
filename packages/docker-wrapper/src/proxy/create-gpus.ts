import { LABELS } from '@ds01/events-core/labels';
import { type Allocation, allocateWaiting } from '../create/allocate-waiting.js';
import { bindReservation, releaseGpus } from '../create/gpu-client.js';
import type { ApiCreatePlan } from './check-create.js';
import type { UserSession } from './user-session.js';

/**
 * `ds01-gpu allocate` for a create that asks for GPUs (idempotent by
 * container name: a create that came through the wrapper gets the wrapper's
 * reservation back), waiting for a free GPU as the wrapper does while the
 * request waits.
 */
export function allocateForCreate(session: UserSession, plan: ApiCreatePlan): Promise<Allocation> {
  return allocateWaiting(session.ctx, { owner: plan.owner, name: plan.name!, count: plan.gpuCount });
}

/** The create body asks for exactly the allocated devices, and says so in ds01's labels. */
export function applyAllocation(plan: ApiCreatePlan, alloc: Allocation): void {
  const host = plan.body.HostConfig as Record<string, unknown>;
  const uuids = alloc.gpus.map((g) => g.uuid);
  host.DeviceRequests = [{ Driver: 'nvidia', Count: 0, DeviceIDs: uuids, Capabilities: [['gpu']], Options: {} }];
  const labels = plan.body.Labels as Record<string, string>;
  labels[LABELS.gpuUuids] = uuids.join(',');
  labels[LABELS.gpuUuid] = uuids[0]!;
  const slots = alloc.gpus.map((g) => g.slot).filter((s): s is string => !!s);
  if (slots.length === uuids.length) labels[LABELS.gpuSlots] = slots.join(',');
}

/** After the engine answered: bind the reservation to the new container, or release it when nothing was created. */
export async function settleAllocation(
  session: UserSession,
  plan: ApiCreatePlan,
  alloc: Allocation,
  containerId: string | null,
): Promise<string | null> {
  try {
    if (containerId) {
      const b = await bindReservation(session.ctx.env, alloc.reservation, containerId);
      return b.status === 'bound' ? null : `bind: ${b.message ?? b.status}`;
    }
    await releaseGpus(session.ctx.env, plan.name!, 'create_failed');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
