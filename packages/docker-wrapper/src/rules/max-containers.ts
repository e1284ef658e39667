import type { Engine } from '@ds01/events-core/engine';
import { Denial } from '../deny.js';
import { listOwned } from '../docker-api.js';

/** `max_containers_per_user`: containers of any state count. */
export async function checkMaxContainers(docker: Engine, owner: string, values: Record<string, unknown>): Promise<void> {
  const max = typeof values.max_containers_per_user === 'number' ? values.max_containers_per_user : null;
  if (max === null) return;
  const count = (await listOwned(docker, owner)).length;
  if (count >= max)
    throw new Denial(
      'max-containers',
      `you have ${count} containers, the most allowed is ${max}`,
      'Remove one first: `docker ps -a`, `docker rm NAME`.',
    );
}
