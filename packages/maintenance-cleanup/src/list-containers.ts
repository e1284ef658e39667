import { type ClassifiedContainer, type ContainerLister, type InspectLike, listClassifiedContainers } from '@ds01/events-core/jobs';
import type Docker from 'dockerode';
import { statusOf } from './docker-errors.js';
import { type Selection, selectionMiss } from './select-containers.js';

export interface Listing {
  /** Selected containers, inspected and classified, by name. */
  containers: ClassifiedContainer[];
  /** Listed but unreadable (not gone): id and message. */
  errors: { id: string; message: string }[];
}

/**
 * Lists containers once for the whole run (events-core's shared lister): the
 * selection is applied to the listing items, so only selected containers are
 * inspected. A container removed in between is simply not there.
 */
export async function listContainers(docker: Docker, sel: Selection): Promise<Listing> {
  const listing = await listClassifiedContainers(docker as unknown as ContainerLister, {
    all: true,
    ...(sel.nameFilter ? { nameFilter: sel.nameFilter } : {}),
    keep: (item) => selectionMiss(item, sel) === null,
  });
  const containers = [...listing.containers].sort((a, b) => a.name.localeCompare(b.name));
  return { containers, errors: listing.errors };
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

/** Ids and names of every container that exists now (any state, any owner). */
export async function existingContainerIds(docker: Docker): Promise<{ ids: Set<string>; names: Set<string> }> {
  const items = await docker.listContainers({ all: true });
  return {
    ids: new Set(items.map((i) => i.Id)),
    names: new Set(items.flatMap((i) => (i.Names ?? []).map((n) => n.replace(/^\//, '')))),
  };
}
