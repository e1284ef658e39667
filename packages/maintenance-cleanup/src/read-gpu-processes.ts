import { execa } from 'execa';

export interface GpuProcess {
  pid: number;
  processName: string;
  gpuUuid: string;
  /** MiB; undefined when nvidia-smi prints [N/A]. */
  usedMemoryMib?: number;
}

/** What `nvidia-smi -L` tells about naming: GPU index → UUID, and each MIG device's parent GPU. */
export interface GpuInventory {
  byIndex: Map<string, string>;
  /** MIG UUID or `<gpu>:<mig index>` → parent GPU UUID. */
  parentOf: Map<string, string>;
}

export type SmiResult<T> = { ok: true; value: T } | { ok: false; missing: boolean; message: string };

function smiBin(): string {
  return process.env.DS01_NVIDIA_SMI?.trim() || 'nvidia-smi';
}

async function runSmi(args: string[]): Promise<SmiResult<string>> {
  const bin = smiBin();
  try {
    const r = await execa(bin, args, { reject: false, timeout: 30_000, stdin: 'ignore' });
    if ((r as { code?: string }).code === 'ENOENT') {
      // No nvidia-smi on PATH is a CPU-only host; a DS01_NVIDIA_SMI that is not there is a mistake.
      return { ok: false, missing: !process.env.DS01_NVIDIA_SMI?.trim(), message: `${bin} not found` };
    }
    if (r.exitCode !== 0) {
      const text = `${String(r.stdout ?? '')} ${String(r.stderr ?? '')}`.trim().split('\n')[0] ?? '';
      return { ok: false, missing: false, message: `${bin} ${args[0]} failed (exit ${r.exitCode ?? '?'}): ${text}` };
    }
    return { ok: true, value: String(r.stdout ?? '') };
  } catch (err) {
    return { ok: false, missing: false, message: `${bin}: ${(err as Error).message}` };
  }
}

/**
 * Parses `--query-compute-apps=pid,process_name,gpu_uuid,used_memory
 * --format=csv,noheader,nounits`. A process name may hold commas, so the
 * first cell is the pid and the last two are the GPU and memory.
 */
export function parseComputeApps(text: string): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 4) continue;
    const pid = Number(cells[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const mem = Number(cells[cells.length - 1]);
    const proc: GpuProcess = { pid, processName: cells.slice(1, -2).join(','), gpuUuid: cells[cells.length - 2] ?? '' };
    if (Number.isFinite(mem)) proc.usedMemoryMib = mem;
    out.push(proc);
  }
  return out;
}

/** Parses `nvidia-smi -L`: `GPU 0: … (UUID: GPU-…)` lines with their `  MIG … Device  n: (UUID: MIG-…)` lines. */
export function parseGpuList(text: string): GpuInventory {
  const inv: GpuInventory = { byIndex: new Map(), parentOf: new Map() };
  let current: { index: string; uuid: string } | undefined;
  for (const line of text.split('\n')) {
    const gpu = /^GPU\s+(\d+):.*\(UUID:\s*(GPU-[^)\s]+)\)/.exec(line);
    if (gpu?.[1] && gpu[2]) {
      current = { index: gpu[1], uuid: gpu[2] };
      inv.byIndex.set(gpu[1], gpu[2]);
      continue;
    }
    const mig = /^\s+MIG\s.*Device\s+(\d+):\s*\(UUID:\s*(MIG-[^)\s]+)\)/.exec(line);
    if (mig?.[1] && mig[2] && current) {
      inv.parentOf.set(mig[2], current.uuid);
      inv.parentOf.set(`${current.index}:${mig[1]}`, current.uuid);
    }
  }
  return inv;
}

export async function readGpuProcesses(): Promise<SmiResult<GpuProcess[]>> {
  const r = await runSmi(['--query-compute-apps=pid,process_name,gpu_uuid,used_memory', '--format=csv,noheader,nounits']);
  return r.ok ? { ok: true, value: parseComputeApps(r.value) } : r;
}

export async function readGpuInventory(): Promise<SmiResult<GpuInventory>> {
  const r = await runSmi(['-L']);
  return r.ok ? { ok: true, value: parseGpuList(r.value) } : r;
}

/** The physical GPU UUID a container device name refers to (a GPU UUID, MIG UUID, index or `gpu:mig`). */
export function physicalGpu(device: string, inv: GpuInventory): string {
  if (device.startsWith('GPU-')) return device;
  return inv.parentOf.get(device) ?? inv.byIndex.get(device) ?? device;
}
