import { logEvent } from '@ds01/events-core';
import { createEventDetails } from '../create/create-event.js';
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
  const details = createEventDetails({
    name: plan.name ?? '',
    id,
    image: plan.image,
    containerType: plan.containerType,
    createdBy: session.user,
    gpus,
    ...(plan.gpuRequest ? { gpuRequest: plan.gpuRequest } : {}),
  });
  logEvent('container.create', { user: plan.owner, source: PROXY_SOURCE, details });
}
