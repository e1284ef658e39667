import { type ContainerInspect, type ContainerSummary, Engine, EngineError } from '@ds01/events-core/engine';
import { type ContainerFacts, factsFromInspect } from '@ds01/events-core/labels';
import { Denial } from './deny.js';

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
  let inspect: ContainerInspect | null;
  try {
    inspect = await docker.inspectContainer(ref);
  } catch (err) {
    // Behind ds01-docker-proxy another user's container is already refused there (403, "ds01: <rule>: ...").
    if (err instanceof EngineError && err.statusCode === 403) throw proxyRefusal(err.message, ref);
    throw err;
  }
  return inspect ? { facts: factsFromInspect(inspect), inspect } : null;
}

/** The proxy's refusal as the wrapper's own Denial (same rule names). */
function proxyRefusal(message: string, ref: string): Denial {
  const m = /ds01: ([a-z0-9:_-]+): ([\s\S]*)$/i.exec(message);
  const [reason, ...hint] = (m?.[2] ?? '').split('. ');
  const d = m
    ? new Denial(m[1]!, reason!.replace(/\.$/, ''), hint.join('. '), ref)
    : new Denial('proxy', message, 'Ask an administrator.', ref);
  // The proxy logged its auth.denied already.
  d.logged = true;
  return d;
}

/** Containers labelled as the user's (any state, or running only). */
export function listOwned(docker: Engine, user: string, all = true): Promise<ContainerSummary[]> {
  return docker.listContainers({ all, filters: { label: [`ds01.user=${user}`] } });
}

/** The user's containers (any state), listed at most once however many rules ask. */
export type OwnedContainers = () => Promise<ContainerSummary[]>;

export function ownedContainers(docker: Engine, user: string): OwnedContainers {
  let listing: Promise<ContainerSummary[]> | undefined;
  return () => {
    listing ??= listOwned(docker, user);
    return listing;
  };
}
