import { type ClassifiedContainer, classifyContainer, type InspectLike } from '@ds01/events-core/jobs';
import type Docker from 'dockerode';
import { statusOf } from './docker-client.js';
import { listFilters, nameMatcher, type Selection, selectionMiss } from './select-containers.js';

export interface Listing {
  /** Selected containers, inspected and classified. */
  containers: ClassifiedContainer[];
  /** How many the selection left out (unmanaged, name filter, excluded labels). */
  leftOut: number;
}

/**
 * Lists containers once for the whole run: one listing call, then one inspect
 * per selected container (the listing lacks DeviceRequests and stop times).
 * A container removed between the two is simply not there.
 */
export async function listContainers(docker: Docker, sel: Selection): Promise<Listing> {
  const items = await docker.listContainers({ all: true, filters: listFilters(sel) });
  const matchName = nameMatcher(sel.nameFilter);
  const containers: ClassifiedContainer[] = [];
  let leftOut = 0;
  for (const item of items) {
    if (selectionMiss(item, sel, matchName)) {
      leftOut++;
      continue;
    }
    const info = await inspect(docker, item.Id);
    if (info) containers.push(classifyContainer(info));
  }
  containers.sort((a, b) => a.name.localeCompare(b.name));
  return { containers, leftOut };
}

/** One inspect; null when the container is gone. */
export async function inspect(docker: Docker, id: string): Promise<InspectLike | null> {
  try {
    return (await docker.getContainer(id).inspect()) as unknown as InspectLike;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

/** Ids of every container that exists now (any state, any owner). */
export async function existingContainerIds(docker: Docker): Promise<{ ids: Set<string>; names: Set<string> }> {
  const items = await docker.listContainers({ all: true });
  return {
    ids: new Set(items.map((i) => i.Id)),
    names: new Set(items.flatMap((i) => (i.Names ?? []).map((n) => n.replace(/^\//, '')))),
  };
}
