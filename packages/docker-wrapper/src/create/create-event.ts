import type { EventDetails } from '@ds01/events-core';
import type { GpuRef } from './gpu-client.js';

/** What `container.create` says about a container ds01 labelled, whether the wrapper or the proxy created it. */
export function createEventDetails(c: {
  name: string;
  id: string;
  image: string;
  containerType: string;
  createdBy: string;
  gpus: GpuRef[];
  gpuRequest?: string;
}): EventDetails<'container.create'> {
  const details: EventDetails<'container.create'> = {
    container: c.name || c.id.slice(0, 12),
    container_id: c.id,
    image: c.image,
    container_type: c.containerType,
    managed: true,
    created_by: c.createdBy,
  };
  if (c.gpus.length > 0)
    details.gpus = c.gpus.map((g) => ({
      uuid: g.uuid,
      ...(g.slot ? { slot: g.slot } : {}),
      ...(g.weight !== undefined ? { weight: g.weight } : {}),
    }));
  if (c.gpuRequest) details.gpu_request = c.gpuRequest;
  return details;
}
