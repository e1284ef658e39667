import { logEvent } from '@ds01/events-core';
import type { GpuRef } from '../create/gpu-client.js';
import type { ApiCreatePlan } from './check-create.js';
import { PROXY_SOURCE } from './refuse.js';
import type { UserSession } from './user-session.js';

/**
 * `container.create` for a container the proxy labelled: the watcher skips
 * managed containers, so without this one a container created through the
 * API directly would have no create event.
 */
export function logCreated(session: UserSession, plan: ApiCreatePlan, id: string, gpus: GpuRef[]): void {
  const details: Parameters<typeof logEvent<'container.create'>>[1]['details'] = {
    container: plan.name ?? id.slice(0, 12),
    container_id: id,
    image: plan.image,
    container_type: plan.containerType,
    managed: true,
    created_by: session.user,
  };
  if (gpus.length > 0)
    details.gpus = gpus.map((g) => ({
      uuid: g.uuid,
      ...(g.slot ? { slot: g.slot } : {}),
      ...(g.weight !== undefined ? { weight: g.weight } : {}),
    }));
  if (plan.gpuRequest) details.gpu_request = plan.gpuRequest;
  logEvent('container.create', { user: plan.owner, source: PROXY_SOURCE, details });
}
