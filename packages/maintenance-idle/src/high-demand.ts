import type { GpuUse } from '@ds01/events-core/labels';
import { gpuBinCommand } from '@ds01/events-core/paths';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { csvRows, runNvidiaSmi } from './sample/nvidia-smi.js';

export interface Demand {
  /** allocated ÷ total, in GPU units; 0 when there are no GPUs or nothing could be read. */
  fraction: number;
  allocated: number;
  total: number;
  /** `ds01-gpu` (the allocator's status), `nvidia-smi` (inventory vs running GPU containers) or `none`. */
  source: 'ds01-gpu' | 'nvidia-smi' | 'none';
  /** Why the preferred source was not used. */
  note?: string;
}

/** What this job reads from `ds01-gpu status --json` (the contract has more; extra fields are allowed). */
const statusSchema = {
  type: 'object',
  required: ['summary'],
  properties: {
    summary: {
      type: 'object',
      required: ['total_slots', 'allocated_slots'],
      properties: {
        total_slots: { type: 'number', minimum: 0 },
        allocated_slots: { type: 'number', minimum: 0 },
        total_weight: { type: 'number', minimum: 0 },
        allocated_weight: { type: 'number', minimum: 0 },
      },
    },
  },
} as const;

interface StatusSummary {
  summary: { total_slots: number; allocated_slots: number; total_weight?: number; allocated_weight?: number };
}

const validateStatus = new Ajv({ allErrors: true }).compile<StatusSummary>(statusSchema);

/**
 * Demand from the allocator: allocated GPU units (a whole GPU is 1, a MIG
 * slice its share) over all units it manages; slots when it reports no weights.
 */
async function fromAllocator(): Promise<Demand | string> {
  const { file, prefix: args } = gpuBinCommand();
  const result = await execa(file, [...args, 'status', '--json'], { timeout: 20_000, reject: false });
  if (result.failed && result.exitCode === undefined) return `${file}: ${result.shortMessage}`;
  if (result.exitCode !== 0) return `${file} status exited ${result.exitCode}`;
  let body: unknown;
  try {
    body = JSON.parse(String(result.stdout));
  } catch {
    return `${file} status: answer is not JSON`;
  }
  if (!validateStatus(body))
    return `${file} status: unexpected answer (${validateStatus.errors?.[0]?.instancePath || '/'} ${validateStatus.errors?.[0]?.message})`;
  const s = body.summary;
  const weighted = typeof s.total_weight === 'number' && typeof s.allocated_weight === 'number' && s.total_weight > 0;
  const total = weighted ? (s.total_weight as number) : s.total_slots;
  const allocated = weighted ? (s.allocated_weight as number) : s.allocated_slots;
  return { fraction: total > 0 ? Math.min(1, allocated / total) : 0, allocated, total, source: 'ds01-gpu' };
}

interface InventoryUnit {
  uuid: string;
  index: string;
  weight: number;
  parent?: string;
}

/**
 * GPU units from `nvidia-smi -L`: a whole GPU is 1; a MIG device is its
 * compute slices out of 7. A GPU in `migEnabled` without MIG devices offers
 * nothing (-L alone cannot tell it from a whole GPU).
 */
export function parseGpuList(text: string, migEnabled: ReadonlySet<string> = new Set()): InventoryUnit[] {
  const units: InventoryUnit[] = [];
  let current: { uuid: string; index: string; mig: InventoryUnit[] } | null = null;
  const flush = () => {
    if (!current) return;
    if (current.mig.length > 0) units.push(...current.mig);
    else if (!migEnabled.has(current.uuid)) units.push({ uuid: current.uuid, index: current.index, weight: 1 });
  };
  for (const line of text.split('\n')) {
    const gpu = /^GPU (\d+): .*\(UUID: (GPU-[^)]+)\)/.exec(line);
    if (gpu) {
      flush();
      current = { uuid: gpu[2] as string, index: gpu[1] as string, mig: [] };
      continue;
    }
    const mig = /^\s+MIG (\d+)g\.\S+\s+Device\s+(\d+): \(UUID: (MIG-[^)]+)\)/.exec(line);
    if (mig && current) {
      current.mig.push({ uuid: mig[3] as string, index: `${current.index}:${mig[2]}`, weight: Number(mig[1]) / 7, parent: current.uuid });
    }
  }
  flush();
  return units;
}

/**
 * Fallback when the allocator cannot be asked: the GPU inventory from
 * nvidia-smi against the GPUs the running containers hold. A MIG-enabled GPU
 * without instances counts for nothing; stopped containers still holding
 * GPUs are not seen (only the allocator knows them).
 */
async function fromInventory(gpuUsesOf: () => Promise<GpuUse[]>): Promise<Demand | string> {
  let text: string;
  const migEnabled = new Set<string>();
  try {
    const [list, modes] = await Promise.all([
      runNvidiaSmi(['-L']),
      runNvidiaSmi(['--query-gpu=uuid,mig.mode.current', '--format=csv,noheader,nounits']),
    ]);
    text = list;
    for (const [uuid, mode] of csvRows(modes)) if (uuid && mode === 'Enabled') migEnabled.add(uuid);
  } catch (err) {
    return (err as Error).message;
  }
  const units = parseGpuList(text, migEnabled);
  const total = units.reduce((sum, u) => sum + u.weight, 0);
  if (total === 0) return { fraction: 0, allocated: 0, total: 0, source: 'nvidia-smi' };
  const taken = new Set<string>();
  let counted = 0;
  for (const use of await gpuUsesOf()) {
    if (use.all) return { fraction: 1, allocated: total, total, source: 'nvidia-smi' };
    if (use.count !== undefined && use.devices.length === 0) counted += use.count;
    for (const d of use.devices) {
      const matches = units.filter((u) => u.uuid === d || u.index === d || u.parent === d);
      for (const u of matches) taken.add(u.uuid);
    }
  }
  const allocated = Math.min(total, counted + units.filter((u) => taken.has(u.uuid)).reduce((sum, u) => sum + u.weight, 0));
  return { fraction: allocated / total, allocated, total, source: 'nvidia-smi' };
}

/** How much of the GPU capacity is allocated: the allocator's view, else nvidia-smi's. */
export async function measureDemand(gpuUsesOf: () => Promise<GpuUse[]>): Promise<Demand> {
  const allocator = await fromAllocator();
  if (typeof allocator !== 'string') return allocator;
  const inventory = await fromInventory(gpuUsesOf);
  if (typeof inventory !== 'string') return { ...inventory, note: allocator };
  return { fraction: 0, allocated: 0, total: 0, source: 'none', note: `${allocator}; ${inventory}` };
}
