import { Denial } from '../deny.js';
import type { OwnedContainers } from '../docker-api.js';

/** `max_containers_per_user`: containers of any state count. */
export async function checkMaxContainers(owned: OwnedContainers, values: Record<string, unknown>): Promise<void> {
  const max = typeof values.max_containers_per_user === 'number' ? values.max_containers_per_user : null;
  if (max === null) return;
  const count = (await owned()).length;
  if (count >= max)
    throw new Denial(
      'max-containers',
      `you have ${count} containers, the most allowed is ${max}`,
      'Remove one first: `docker ps -a`, `docker rm NAME`.',
    );
}
