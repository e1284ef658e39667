import { type ContainerFacts, factsFromInspect } from '@ds01/events-core/labels';
import Docker from 'dockerode';
import { dockerodeOptions } from './docker-endpoint.js';

export type DockerClient = Docker;

export function connectDocker(endpoint: string): Docker {
  return new Docker(dockerodeOptions(endpoint));
}

export interface ResolvedContainer {
  facts: ContainerFacts;
  inspect: Docker.ContainerInspectInfo;
}

/**
 * A container by name or id prefix, resolved by the engine itself (so the
 * result is exactly what the real client will act on); null when none.
 */
export async function resolveContainer(docker: Docker, ref: string): Promise<ResolvedContainer | null> {
  try {
    const inspect = await docker.getContainer(ref).inspect();
    return { facts: factsFromInspect(inspect as Parameters<typeof factsFromInspect>[0]), inspect };
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    // 404: no such container. 400 and friends: not a valid reference; either way the real client reports it.
    if (status !== undefined && status >= 400 && status < 500) return null;
    throw err;
  }
}

/** Containers labelled as the user's (any state unless running only). */
export async function listOwned(docker: Docker, user: string, all = true): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all, filters: { label: [`ds01.user=${user}`] } });
}
