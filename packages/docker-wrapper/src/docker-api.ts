import { type ContainerInspect, type ContainerSummary, Engine } from '@ds01/events-core/engine';
import { type ContainerFacts, factsFromInspect } from '@ds01/events-core/labels';

export type DockerClient = Engine;

export function connectDocker(endpoint: string): Engine {
  return new Engine(endpoint);
}

export interface ResolvedContainer {
  facts: ContainerFacts;
  inspect: ContainerInspect;
}

/**
 * A container by name or id prefix, resolved by the engine itself (so the
 * result is exactly what the real client will act on); null when none.
 */
export async function resolveContainer(docker: Engine, ref: string): Promise<ResolvedContainer | null> {
  const inspect = await docker.inspectContainer(ref);
  return inspect ? { facts: factsFromInspect(inspect), inspect } : null;
}

/** Containers labelled as the user's (any state, or running only). */
export function listOwned(docker: Engine, user: string, all = true): Promise<ContainerSummary[]> {
  return docker.listContainers({ all, filters: { label: [`ds01.user=${user}`] } });
}
