import type { ContainerView } from './docker/snapshot.js';
import type { Inventory } from './inventory/types.js';
import { type Allocation, type GpuState, holdsGpus } from './state/types.js';

/** Who is on each slot UUID right now. */
export interface Occupant {
  allocation?: Allocation;
  /** Running containers using the slot without an allocation. */
  unmanaged?: ContainerView[];
}

export interface UnmanagedUse {
  container: ContainerView;
  /** Slot UUIDs it can use (every slot for `--gpus all`). */
  uuids: string[];
  devices: string[];
  all: boolean;
}

export function occupancy(state: GpuState, unmanaged: UnmanagedUse[]): Map<string, Occupant> {
  const map = new Map<string, Occupant>();
  for (const a of state.allocations) {
    if (!holdsGpus(a)) continue;
    for (const g of a.gpus) map.set(g.uuid, { ...map.get(g.uuid), allocation: a });
  }
  for (const u of unmanaged) {
    for (const uuid of u.uuids) {
      const o = map.get(uuid) ?? {};
      o.unmanaged = [...(o.unmanaged ?? []), u.container];
      map.set(uuid, o);
    }
  }
  return map;
}

/** A held allocation whose hold is over: its owner no longer has a claim under contention. */
export function holdExpired(a: Allocation, now: number): boolean {
  return a.state === 'held' && a.hold_until !== null && Date.parse(a.hold_until) <= now;
}

export function weightOf(a: Allocation): number {
  return a.gpus.reduce((sum, g) => sum + g.weight, 0);
}

/** GPU-equivalents the user holds: every pending, active and held slot, by the weight of the slot. */
export function usageOf(state: GpuState, user: string): number {
  return state.allocations.filter((a) => a.user === user && holdsGpus(a)).reduce((sum, a) => sum + weightOf(a), 0);
}

/** Slot UUIDs covered by an unmanaged GPU request, given the inventory. */
export function coveredSlots(
  inv: Inventory,
  request: { devices: string[]; all: boolean; count?: number },
  map: (d: string) => string[],
): string[] {
  if (request.all) return inv.slots.map((s) => s.uuid);
  if (request.devices.length > 0) return [...new Set(request.devices.flatMap(map))];
  // `--gpus N` without ids: the NVIDIA toolkit takes the first N GPUs by index.
  const n = request.count ?? 0;
  const first = inv.gpus
    .slice()
    .sort((a, b) => a.index - b.index)
    .slice(0, n);
  return first.flatMap((g) => (g.migEnabled ? g.migDevices : [g.uuid]));
}
