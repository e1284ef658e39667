import { type ClassifiedContainer, classifyContainer, type InspectLike } from '@ds01/events-core/jobs';
import type Docker from 'dockerode';
import { mapPool } from './map-pool.js';

export interface SeenContainer {
  c: ClassifiedContainer;
  execIds: string[];
}

/**
 * Every running (or paused) container, listed once and inspected once
 * (DeviceRequests, StartedAt, the init PID and exec sessions are only in an
 * inspect). A container that vanishes in between is simply not returned.
 */
export async function listRunningContainers(docker: Docker): Promise<SeenContainer[]> {
  const list = await docker.listContainers({ filters: { status: ['running', 'paused'] } });
  const seen = await mapPool(list, 16, async (item): Promise<SeenContainer | null> => {
    try {
      const info = (await docker.getContainer(item.Id).inspect()) as unknown as InspectLike & { ExecIDs?: string[] | null };
      if (!info.State?.Running) return null;
      return { c: classifyContainer(info), execIds: info.ExecIDs ?? [] };
    } catch {
      return null;
    }
  });
  return seen.filter((s): s is SeenContainer => s !== null);
}
