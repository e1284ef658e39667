import fs from 'node:fs';
import { csvRows, runNvidiaSmi } from './nvidia-smi.js';

export interface GpuProcess {
  pid: number;
  uuid: string;
  usedMiB: number | null;
}

export interface GpuActivity {
  /** Null when nvidia-smi answered; else why not (the GPU signal is then unknown). */
  error: string | null;
  /** Compute processes per container id (mapped through /proc/<pid>/cgroup). */
  processesByContainer: Map<string, GpuProcess[]>;
  /** utilization.gpu per GPU UUID; null where the GPU cannot report it (MIG mode). */
  utilisation: Map<string, number | null>;
  /** GPU index → UUID, for containers that name GPUs by index. */
  uuidOfIndex: Map<string, string>;
}

const CONTAINER_ID = /[0-9a-f]{64}/g;

/** Which of `ids` the process belongs to, from the container id in its cgroup paths. */
function containerOfPid(pid: number, ids: ReadonlySet<string>): string | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  for (const m of text.matchAll(CONTAINER_ID)) if (ids.has(m[0])) return m[0];
  return null;
}

function numberOrNull(cell: string | undefined): number | null {
  if (cell === undefined || cell === '' || cell.startsWith('[')) return null;
  const n = Number(cell);
  return Number.isFinite(n) ? n : null;
}

/**
 * One look at the GPUs per run: the compute processes (attributed to
 * containers by their host PID's cgroup, which works for MIG slices and shared
 * GPUs alike) and the utilisation of every whole GPU.
 */
export async function readGpuActivity(containerIds: ReadonlySet<string>): Promise<GpuActivity> {
  const activity: GpuActivity = { error: null, processesByContainer: new Map(), utilisation: new Map(), uuidOfIndex: new Map() };
  const [apps, gpus] = await Promise.allSettled([
    runNvidiaSmi(['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits']),
    runNvidiaSmi(['--query-gpu=index,uuid,utilization.gpu', '--format=csv,noheader,nounits']),
  ]);
  if (gpus.status === 'fulfilled') {
    for (const [index, uuid, util] of csvRows(gpus.value)) {
      if (!uuid) continue;
      activity.utilisation.set(uuid, numberOrNull(util));
      if (index !== undefined) activity.uuidOfIndex.set(index, uuid);
    }
  } else activity.error = (gpus.reason as Error).message;
  if (apps.status === 'fulfilled') {
    for (const [pidText, uuid, used] of csvRows(apps.value)) {
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      const id = containerOfPid(pid, containerIds);
      if (!id) continue;
      const list = activity.processesByContainer.get(id) ?? [];
      list.push({ pid, uuid: uuid ?? '', usedMiB: numberOrNull(used) });
      activity.processesByContainer.set(id, list);
    }
  } else activity.error ??= (apps.reason as Error).message;
  return activity;
}
