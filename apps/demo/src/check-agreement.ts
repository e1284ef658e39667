import { gpuUuidsOf, type LoggedEvent } from './read-log.js';

export interface GpuHolder {
  uuid: string;
  container: string | null;
}

export interface Agreement {
  agree: boolean;
  /** GPU UUID → container, as each source sees it. */
  allocator: GpuHolder[];
  docker: GpuHolder[];
  eventLog: GpuHolder[];
  problems: string[];
}

interface AllocatorStatus {
  allocations?: { container?: string | null; state?: string; gpus?: { uuid: string }[] }[];
}

interface DockerContainer {
  Names?: string[];
  Labels?: Record<string, string>;
}

const sortHolders = (h: GpuHolder[]) => [...h].sort((a, b) => a.uuid.localeCompare(b.uuid));

/**
 * The three records of who holds which GPU must say the same: the
 * allocator's state (ds01-gpu status), the containers Docker has (their
 * ds01.gpu.uuids labels), and the event log replayed (gpu.allocate adds,
 * gpu.release removes).
 */
export function checkAgreement(
  status: AllocatorStatus,
  containers: DockerContainer[],
  events: LoggedEvent[],
  namePrefix: string,
): Agreement {
  const allocator = sortHolders(
    (status.allocations ?? [])
      .filter((a) => a.state !== 'revoked' && (a.container ?? '').startsWith(namePrefix))
      .flatMap((a) => (a.gpus ?? []).map((g) => ({ uuid: g.uuid, container: a.container ?? null }))),
  );
  const docker = sortHolders(
    containers.flatMap((c) => {
      const name = (c.Names?.[0] ?? '').replace(/^\//, '');
      if (!name.startsWith(namePrefix)) return [];
      const uuids = (c.Labels?.['ds01.gpu.uuids'] ?? '').split(',').filter(Boolean);
      return uuids.map((uuid) => ({ uuid, container: name }));
    }),
  );
  const held = new Map<string, string | null>();
  for (const e of events) {
    const container = typeof e.details?.container === 'string' ? e.details.container : null;
    if (e.event_type === 'gpu.allocate' && container?.startsWith(namePrefix)) for (const u of gpuUuidsOf(e)) held.set(u, container);
    if (e.event_type === 'gpu.release')
      for (const u of gpuUuidsOf(e)) if (held.has(u) && (!container || held.get(u) === container)) held.delete(u);
  }
  const eventLog = sortHolders([...held].map(([uuid, container]) => ({ uuid, container })));
  const key = (h: GpuHolder[]) => JSON.stringify(h);
  const problems: string[] = [];
  if (key(allocator) !== key(docker)) problems.push(`allocator ${key(allocator)} ≠ Docker ${key(docker)}`);
  if (key(allocator) !== key(eventLog)) problems.push(`allocator ${key(allocator)} ≠ event log ${key(eventLog)}`);
  return { agree: problems.length === 0, allocator, docker, eventLog, problems };
}
