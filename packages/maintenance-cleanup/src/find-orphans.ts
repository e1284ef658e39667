import { lookupUser } from '@ds01/events-core/identity';
import { type ClassifiedContainer, classifyContainer } from '@ds01/events-core/jobs';
import type Docker from 'dockerode';
import type { AllocationEntry } from './allocator-schemas.js';
import { containerIdOfPid, startTimeOfPid, uidOfPid } from './container-of-pid.js';
import { inspect } from './list-containers.js';
import { type GpuInventory, physicalGpu, readGpuInventory, readGpuProcesses } from './read-gpu-processes.js';

export interface OrphanProcess {
  /** Stable identity across runs: pid, its start time and the GPU. */
  key: string;
  pid: number;
  processName: string;
  gpuUuid: string;
  usedMemoryMib?: number;
  user: string | null;
  container?: string;
  containerId?: string;
  reason: 'no_container' | 'container_without_gpu' | 'container_gone';
}

export interface ProcessScan {
  checked: number;
  orphans: OrphanProcess[];
  /** nvidia-smi is not installed: nothing to check (a CPU-only host). */
  unavailable?: string;
  /** nvidia-smi failed: a warning. */
  error?: string;
}

/** Does this container's GPU request cover that physical GPU? */
function holdsGpu(c: ClassifiedContainer, gpuUuid: string, inv: GpuInventory): boolean {
  if (c.gpu.all) return true;
  // `--gpus 2` names no devices: which GPUs it got is unknown, so it is not accused.
  if (c.gpu.devices.length === 0) return c.gpu.hasGpu;
  return c.gpu.devices.some((d) => physicalGpu(d, inv) === gpuUuid || d === gpuUuid);
}

/**
 * GPU processes that belong to no container holding that GPU: host processes,
 * processes of a container that was given no such GPU, and processes left in
 * the cgroup of a container that is gone. Reported only, never signalled.
 */
export async function findOrphanProcesses(docker: Docker): Promise<ProcessScan> {
  const procs = await readGpuProcesses();
  if (!procs.ok)
    return procs.missing ? { checked: 0, orphans: [], unavailable: procs.message } : { checked: 0, orphans: [], error: procs.message };
  if (procs.value.length === 0) return { checked: 0, orphans: [] };
  const invResult = await readGpuInventory();
  const inv: GpuInventory = invResult.ok ? invResult.value : { byIndex: new Map(), parentOf: new Map() };
  const containers = new Map<string, ClassifiedContainer | null>();
  const orphans: OrphanProcess[] = [];
  let checked = 0;
  for (const p of procs.value) {
    const cid = containerIdOfPid(p.pid);
    if (cid === undefined) continue; // exited since nvidia-smi listed it
    checked++;
    const base = {
      key: `${p.pid}:${startTimeOfPid(p.pid) ?? '?'}:${p.gpuUuid}`,
      pid: p.pid,
      processName: p.processName,
      gpuUuid: p.gpuUuid,
      ...(p.usedMemoryMib !== undefined ? { usedMemoryMib: p.usedMemoryMib } : {}),
    };
    if (cid === null) {
      const uid = uidOfPid(p.pid);
      orphans.push({ ...base, user: uid === undefined ? null : (lookupUser(uid)?.name ?? String(uid)), reason: 'no_container' });
      continue;
    }
    if (!containers.has(cid)) {
      const info = await inspect(docker, cid);
      containers.set(cid, info ? classifyContainer(info) : null);
    }
    const c = containers.get(cid);
    if (!c) {
      const uid = uidOfPid(p.pid);
      orphans.push({
        ...base,
        containerId: cid,
        user: uid === undefined ? null : (lookupUser(uid)?.name ?? String(uid)),
        reason: 'container_gone',
      });
      continue;
    }
    if (holdsGpu(c, p.gpuUuid, inv)) continue;
    orphans.push({ ...base, container: c.name, containerId: c.id, user: c.owner, reason: 'container_without_gpu' });
  }
  return { checked, orphans };
}

export interface OrphanAllocation {
  id: string;
  state: string;
  user: string | null;
  container?: string;
  containerId?: string;
  gpus: string[];
}

function idExists(ids: Set<string>, id: string): boolean {
  if (ids.has(id)) return true;
  // A short id (as `docker ps` prints it) names the container its prefix matches.
  return id.length < 64 && [...ids].some((full) => full.startsWith(id));
}

/** Allocations bound to a container that no longer exists (pending reservations have none yet). */
export function findOrphanAllocations(
  allocations: AllocationEntry[],
  existing: { ids: Set<string>; names: Set<string> },
  ignore: Set<string>,
): OrphanAllocation[] {
  const out: OrphanAllocation[] = [];
  for (const a of allocations) {
    if (a.state === 'pending') continue;
    const cid = a.container_id ?? undefined;
    const name = a.container ?? undefined;
    if (cid ? idExists(existing.ids, cid) : name ? existing.names.has(name) : true) continue;
    if ((cid && ignore.has(cid)) || (name && ignore.has(name))) continue;
    const o: OrphanAllocation = { id: a.id, state: a.state, user: a.user ?? null, gpus: a.gpus.map((g) => g.uuid) };
    if (name) o.container = name;
    if (cid) o.containerId = cid;
    out.push(o);
  }
  return out;
}
