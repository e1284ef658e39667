import { type ContainerSummary, Engine } from '@ds01/events-core/engine';
import { factsFromInspect, factsFromSummary, LABELS, readGpuUse, readOwner, readType } from '@ds01/events-core/labels';
import { parseDockerTime } from '@ds01/events-core/time';

/** GPUs a container asked Docker for (from an inspect), or null for none. */
export interface GpuRequest {
  devices: string[];
  all: boolean;
  count?: number;
}

export interface ContainerView {
  id: string;
  name: string;
  /** Docker's state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  labels: Record<string, string>;
  owner: string | null;
  type: string;
  /** UUIDs from `ds01.gpu.uuids` (or `ds01.gpu.uuid`). */
  gpuLabels: string[];
  /** Created by ds01 (`ds01.managed=true`). */
  managed: boolean;
}

export interface InspectInfo {
  finishedAt: number | null;
  gpu: GpuRequest | null;
}

/** One view of Docker per command: a single listing plus the few inspects that are needed. */
export interface DockerSnapshot {
  /** Taken just before the listing was requested: anything changed in the state after this is newer than the snapshot. */
  takenAt: number;
  containers: Map<string, ContainerView>;
  byName: Map<string, ContainerView>;
  inspected: Map<string, InspectInfo>;
}

/** Containers that are using (or about to use) their devices. */
export function isLive(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'restarting' || state === 'created';
}

let client: Engine | undefined;
// Every allocation is a fresh process: the small node:http client (DOCKER_HOST,
// unix:// or tcp://) instead of dockerode, whose import alone cost most of the
// 0.3 s budget (README, Benchmark).
export function docker(): Engine {
  client ??= new Engine();
  return client;
}

function viewOf(c: ContainerSummary): ContainerView {
  const facts = factsFromSummary(c);
  const use = readGpuUse(facts);
  return {
    id: c.Id,
    name: facts.name,
    state: c.State ?? 'unknown',
    labels: facts.labels,
    owner: readOwner(facts).owner,
    type: readType(facts),
    gpuLabels: use.from === 'labels' ? use.devices : [],
    managed: facts.labels[LABELS.managed] === 'true',
  };
}

export async function inspectContainer(id: string): Promise<InspectInfo | null> {
  const info = await docker().inspectContainer(id);
  if (!info) return null;
  const use = readGpuUse(factsFromInspect(info));
  const gpu: GpuRequest | null = use.hasGpu && use.from !== 'labels' ? { devices: use.devices, all: use.all } : null;
  if (gpu && use.count !== undefined) gpu.count = use.count;
  return { finishedAt: parseDockerTime(info.State?.FinishedAt), gpu };
}

/**
 * Lists every container once, then inspects only the ones `wantInspect`
 * picks (a few at a time), never one inspect per container.
 */
export async function takeSnapshot(
  wantInspect: ((c: ContainerView) => boolean) | Promise<(c: ContainerView) => boolean>,
): Promise<DockerSnapshot> {
  const takenAt = Date.now();
  // DS01_GPU_SCOPE_LABEL (key or key=value) limits the allocator to the containers carrying it: a test
  // suite sharing one Docker engine, or two ds01 instances on one host. Unset on a normal host.
  const scope = process.env.DS01_GPU_SCOPE_LABEL;
  // The listing is asked for at once; the choice of inspects may still be on its way (the state read).
  const [list, want] = await Promise.all([
    docker().listContainers(scope ? { all: true, filters: { label: [scope] } } : { all: true }),
    wantInspect,
  ]);
  const containers = new Map<string, ContainerView>();
  const byName = new Map<string, ContainerView>();
  for (const item of list) {
    const view = viewOf(item);
    containers.set(view.id, view);
    if (view.name) byName.set(view.name, view);
  }
  const todo = [...containers.values()].filter(want);
  const inspected = new Map<string, InspectInfo>();
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const c = todo[next++] as ContainerView;
      const info = await inspectContainer(c.id);
      if (info) inspected.set(c.id, info);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, todo.length) }, worker));
  return { takenAt, containers, byName, inspected };
}
