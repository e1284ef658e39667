import { type ContainerType, FOREIGN_LABELS, LABELS } from './names.js';

/**
 * What the label contract needs to know about a container, whichever Docker
 * API call it came from (a listing or an inspect).
 */
export interface ContainerFacts {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** HostConfig.DeviceRequests (inspect only; a listing does not carry them). */
  deviceRequests?: { Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null }[] | null;
  /** HostConfig.Runtime */
  runtime?: string;
  /** Config.Env */
  env?: string[];
}

/** From a container listing item (GET /containers/json). */
export function factsFromSummary(c: { Id: string; Names?: string[]; Labels?: Record<string, string> | null }): ContainerFacts {
  return { id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {} };
}

/** From an inspect result (GET /containers/{id}/json). */
export function factsFromInspect(c: {
  Id: string;
  Name?: string;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null } | null;
  HostConfig?: { DeviceRequests?: ContainerFacts['deviceRequests']; Runtime?: string } | null;
}): ContainerFacts {
  const facts: ContainerFacts = { id: c.Id, name: (c.Name ?? '').replace(/^\//, ''), labels: c.Config?.Labels ?? {} };
  if (c.HostConfig?.DeviceRequests !== undefined) facts.deviceRequests = c.HostConfig.DeviceRequests;
  if (c.HostConfig?.Runtime) facts.runtime = c.HostConfig.Runtime;
  if (c.Config?.Env) facts.env = c.Config.Env;
  return facts;
}

export interface OwnerResult {
  owner: string | null;
  /** Which source named the owner (for messages and migration reports). */
  from: string | null;
}

/**
 * The owner: `ds01.user`, then DS01's legacy sources in its order —
 * `aime.mlc.USER`, a devcontainer folder under /home/<user>/, a JupyterHub
 * user label, and the `<name>._.<uid>` naming scheme (uid looked up with
 * `uidToName`). Unknown stays null: never guessed.
 */
export function readOwner(c: ContainerFacts, uidToName?: (uid: number) => string | undefined): OwnerResult {
  const l = c.labels;
  if (l[LABELS.user]) return { owner: l[LABELS.user] as string, from: LABELS.user };
  if (l[FOREIGN_LABELS.legacyUser]) return { owner: l[FOREIGN_LABELS.legacyUser] as string, from: FOREIGN_LABELS.legacyUser };
  const folder = l[FOREIGN_LABELS.devcontainerFolder];
  const home = folder ? /^\/home\/([^/]+)\//.exec(`${folder}/`) : null;
  if (home?.[1]) return { owner: home[1], from: FOREIGN_LABELS.devcontainerFolder };
  const jupyter = l[FOREIGN_LABELS.jupyterUser];
  if (jupyter) return { owner: jupyter, from: FOREIGN_LABELS.jupyterUser };
  const m = /\._\.(\d+)$/.exec(c.name);
  if (m && uidToName) {
    const name = uidToName(Number(m[1]));
    if (name) return { owner: name, from: 'name' };
  }
  return { owner: null, from: null };
}

/**
 * The container type: `ds01.container_type`, then `ds01.interface`, then
 * DS01's hints (atomic naming, devcontainer and compose labels). A container
 * with no hint at all is `unknown`, which has its own limits.
 */
export function readType(c: ContainerFacts): ContainerType {
  const l = c.labels;
  if (l[LABELS.containerType]) return l[LABELS.containerType] as string;
  if (l[LABELS.interface]) return l[LABELS.interface] as string;
  if (l[FOREIGN_LABELS.legacyType]) return l[FOREIGN_LABELS.legacyType] as string;
  if (c.name.includes('._.')) return 'atomic';
  if (Object.keys(l).some((k) => k.startsWith('devcontainer.'))) return 'devcontainer';
  if (l[FOREIGN_LABELS.composeProject]) return 'compose';
  if (l[LABELS.managed] === 'true') return 'atomic';
  return 'unknown';
}

export interface GpuUse {
  hasGpu: boolean;
  /** GPU/MIG UUIDs (or indexes) the container can see, when it names them. */
  devices: string[];
  /** Requested every GPU (`--gpus all`, or NVIDIA_VISIBLE_DEVICES=all). */
  all: boolean;
  /** A count without ids (`--gpus 2`). */
  count?: number;
  from: 'device_requests' | 'labels' | 'runtime_env' | null;
}

function isGpuRequest(r: NonNullable<ContainerFacts['deviceRequests']>[number]): boolean {
  if (r.Driver && /nvidia/i.test(r.Driver)) return true;
  return (r.Capabilities ?? []).some((set) => set.some((cap) => cap === 'gpu'));
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * GPU use, from every form a container can carry it: DeviceRequests (inspect),
 * the `ds01.gpu.uuids`/`ds01.gpu.uuid` labels, or `--runtime nvidia` with
 * NVIDIA_VISIBLE_DEVICES (how DS01 started multi-GPU containers).
 */
export function readGpuUse(c: ContainerFacts): GpuUse {
  for (const r of c.deviceRequests ?? []) {
    if (!isGpuRequest(r)) continue;
    const ids = r.DeviceIDs ?? [];
    if (ids.length > 0) return { hasGpu: true, devices: [...ids], all: false, from: 'device_requests' };
    const count = r.Count ?? 0;
    if (count === -1) return { hasGpu: true, devices: [], all: true, from: 'device_requests' };
    if (count > 0) return { hasGpu: true, devices: [], all: false, count, from: 'device_requests' };
  }
  const labelled = splitList(c.labels[LABELS.gpuUuids]);
  if (labelled.length === 0 && c.labels[LABELS.gpuUuid]) labelled.push(...splitList(c.labels[LABELS.gpuUuid]));
  if (labelled.length > 0) return { hasGpu: true, devices: labelled, all: false, from: 'labels' };
  if (c.runtime === 'nvidia') {
    const env = (c.env ?? []).find((e) => e.startsWith('NVIDIA_VISIBLE_DEVICES='));
    const value = env?.slice('NVIDIA_VISIBLE_DEVICES='.length) ?? '';
    if (value && value !== 'void' && value !== 'none') {
      if (value === 'all') return { hasGpu: true, devices: [], all: true, from: 'runtime_env' };
      return { hasGpu: true, devices: splitList(value), all: false, from: 'runtime_env' };
    }
  }
  return { hasGpu: false, devices: [], all: false, from: null };
}

/** `ds01.protected=true` or `ds01.monitoring=true`: never touched by maintenance jobs. */
export function isExemptFromMaintenance(c: ContainerFacts): boolean {
  return c.labels[LABELS.protected] === 'true' || c.labels[LABELS.monitoring] === 'true';
}

export function isManaged(c: ContainerFacts): boolean {
  return c.labels[LABELS.managed] === 'true';
}
