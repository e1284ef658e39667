import { type ContainerInspect, type ContainerSummary, Engine } from '@ds01/events-core/engine';
import { type ContainerFacts, factsFromInspect, factsFromSummary, LABELS, readGpuUse, readOwner, readType } from '@ds01/events-core/labels';
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

/** One view of Docker per command: the containers that matter to the allocator (see takeSnapshot). */
export interface DockerSnapshot {
  /** Taken just before the listing was requested: anything changed in the state after this is newer than the snapshot. */
  takenAt: number;
  containers: Map<string, ContainerView>;
  byName: Map<string, ContainerView>;
  inspected: Map<string, InspectInfo>;
}

/** The container `ref` names by full id or by an id prefix of 12 or more characters (as `docker create` prints it). */
export function containerById(containers: ReadonlyMap<string, ContainerView>, ref: string): ContainerView | undefined {
  const exact = containers.get(ref);
  if (exact || ref.length < 12) return exact;
  for (const c of containers.values()) if (c.id.startsWith(ref)) return c;
  return undefined;
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

function viewOf(id: string, state: string | undefined, facts: ContainerFacts): ContainerView {
  const use = readGpuUse(facts);
  return {
    id,
    name: facts.name,
    state: state ?? 'unknown',
    labels: facts.labels,
    owner: readOwner(facts).owner,
    type: readType(facts),
    gpuLabels: use.from === 'labels' ? use.devices : [],
    managed: facts.labels[LABELS.managed] === 'true',
  };
}

function infoOf(inspect: ContainerInspect): InspectInfo {
  const use = readGpuUse(factsFromInspect(inspect));
  const gpu: GpuRequest | null = use.hasGpu && use.from !== 'labels' ? { devices: use.devices, all: use.all } : null;
  if (gpu && use.count !== undefined) gpu.count = use.count;
  return { finishedAt: parseDockerTime(inspect.State?.FinishedAt), gpu };
}

/** What a snapshot must cover, known once the state has been read. */
export interface SnapshotNeeds {
  /** Which listed containers to inspect (for their GPU request or when they stopped). */
  want: (c: ContainerView) => boolean;
  /**
   * Containers that must be seen whether or not a listing shows them (ids, names or id prefixes): those
   * the state names, and the one a command is about. Each one no listing shows is inspected; one Docker
   * does not know is absent from the snapshot, which is how a removal is seen.
   */
  refs: readonly string[];
  /**
   * Container names that must be seen (pending reservations). Looked up like refs, but only a container
   * of exactly that name counts: Docker falls back to id prefixes for a ref that is no container's name.
   */
  names?: readonly string[];
}

// Only these containers matter to the allocator, and Docker lists them in a few milliseconds whatever else
// the host holds (a full listing grows with every container ever left behind: ~0.1 s at 1,000):
//  - any container that can be using a GPU now, labelled or not (unmanaged use is found among these);
//  - every container carrying a ds01 GPU or managed label, whatever its state (holds, adoption).
// Anything else the state refers to comes from `refs`. Label filters are ANDed by Docker, hence one
// listing per label.
const LISTINGS: Record<string, string[]>[] = [
  { status: ['running', 'paused', 'restarting'] },
  { label: [`${LABELS.managed}=true`] },
  { label: [LABELS.gpuUuids] },
  { label: [LABELS.gpuUuid] },
];

/** The filters of each listing (`all=1`), each narrowed to `scope` when one is set; the benchmark times these too. */
export function listingFilters(scope: string | undefined): Record<string, string[]>[] {
  return LISTINGS.map((filters) => (scope ? { ...filters, label: [...(filters.label ?? []), scope] } : filters));
}

async function listRelevant(scope: string | undefined): Promise<ContainerSummary[]> {
  const lists = await Promise.all(listingFilters(scope).map((filters) => docker().listContainers({ all: true, filters })));
  const byId = new Map<string, ContainerSummary>();
  for (const list of lists) for (const item of list) byId.set(item.Id, item);
  return [...byId.values()];
}

/** Runs `fn` over `items`, at most 16 at a time. */
async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, worker));
}

/**
 * A few filtered listings (see LISTINGS), the containers the state refers to
 * that none of them shows, then inspects of only the listed ones `want`
 * picks: never one inspect per container on the host.
 */
export async function takeSnapshot(needs: SnapshotNeeds | Promise<SnapshotNeeds>): Promise<DockerSnapshot> {
  const takenAt = Date.now();
  // DS01_GPU_SCOPE_LABEL (key or key=value) limits the allocator to the containers carrying it: a test
  // suite sharing one Docker engine, or two ds01 instances on one host. Unset on a normal host.
  const scope = process.env.DS01_GPU_SCOPE_LABEL || undefined;
  // The listings are asked for at once; what else to look at may still be on its way (the state read).
  const [list, { want, refs, names = [] }] = await Promise.all([listRelevant(scope), needs]);
  const containers = new Map<string, ContainerView>();
  const byName = new Map<string, ContainerView>();
  const add = (view: ContainerView) => {
    containers.set(view.id, view);
    if (view.name) byName.set(view.name, view);
  };
  for (const item of list) add(viewOf(item.Id, item.State, factsFromSummary(item)));
  const listed = [...containers.values()];
  const inspected = new Map<string, InspectInfo>();
  const exactNames = new Set(names);
  await eachLimited(
    [...new Set([...refs, ...names])].filter((ref) => ref && !byName.has(ref) && !containerById(containers, ref)),
    async (ref) => {
      const found = await docker().inspectContainer(ref);
      if (!found || (exactNames.has(ref) && !refs.includes(ref) && found.Name !== `/${ref}`)) return;
      const facts = factsFromInspect(found);
      if (scope && !hasLabel(facts.labels, scope)) return;
      add(viewOf(found.Id, found.State?.Status, facts));
      inspected.set(found.Id, infoOf(found));
    },
  );
  await eachLimited(
    listed.filter((c) => !inspected.has(c.id) && want(c)),
    async (c) => {
      const found = await docker().inspectContainer(c.id);
      if (found) inspected.set(c.id, infoOf(found));
    },
  );
  return { takenAt, containers, byName, inspected };
}

/** `key` or `key=value`, as Docker's label filter reads it. */
function hasLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
