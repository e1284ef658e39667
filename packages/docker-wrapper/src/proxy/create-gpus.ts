import { LABELS } from '@ds01/events-core/labels';
import { allocateGpus, bindReservation, type GpuRef, GpuToolError, refusalOf, releaseGpus } from '../create/gpu-client.js';
import { Denial } from '../deny.js';
import type { ApiCreatePlan } from './check-create.js';
import type { UserSession } from './user-session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Allocation {
  reservation: string;
  gpus: GpuRef[];
}

/**
 * `ds01-gpu allocate` for a create that asks for GPUs (idempotent by
 * container name: a create that came through the wrapper gets the wrapper's
 * reservation back). NO_GPU_AVAILABLE is retried for the site's
 * `gpu_allocation.wait_max_s`, like the wrapper, while the request waits;
 * other refusals fail at once.
 */
export async function allocateForCreate(session: UserSession, plan: ApiCreatePlan): Promise<Allocation> {
  const g = ((await session.ctx.fullConfig()).raw.gpu_allocation ?? {}) as Record<string, unknown>;
  const maxS = typeof g.wait_max_s === 'number' ? g.wait_max_s : 180;
  const intervalS = typeof g.wait_interval_s === 'number' && g.wait_interval_s > 0 ? g.wait_interval_s : 10;
  let deadline: number | undefined;
  for (;;) {
    let r: Awaited<ReturnType<typeof allocateGpus>>;
    try {
      r = await allocateGpus(session.ctx.env, plan.owner, plan.name!, plan.gpuCount);
    } catch (err) {
      if (err instanceof GpuToolError) throw new Denial('gpu-allocator', err.message, 'Try again; if it persists, tell an administrator.');
      throw err;
    }
    if (r.status === 'allocated') return { reservation: r.reservation, gpus: r.gpus };
    const refusal = refusalOf(r);
    if (refusal) throw refusal;
    const message = (r.status === 'rejected' && r.message) || 'NO_GPU_AVAILABLE';
    deadline ??= Date.now() + maxS * 1000;
    if (Date.now() >= deadline)
      throw new Denial('gpu:NO_GPU_AVAILABLE', message, 'Try again later; `ds01-gpu status` shows who holds the GPUs.');
    await sleep(Math.min(intervalS * 1000, Math.max(0, deadline - Date.now())));
  }
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
