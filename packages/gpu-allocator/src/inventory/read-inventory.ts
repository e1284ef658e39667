import { migProfileWeight, slicesPerGpu } from './mig-weight.js';
import { parseGpuList } from './parse-list.js';
import { parseGpuQuery } from './parse-query.js';
import { GPU_QUERY_ARGS, InventoryError, runNvidiaSmi } from './run-nvidia-smi.js';
import { compareSlotIds } from './slot-order.js';
import type { Inventory, Slot, UnusableGpu } from './types.js';

/**
 * Builds the slot inventory from `--query-gpu`, plus `-L` when a GPU is in MIG
 * mode: only -L names MIG instances, and on a host without MIG the query alone
 * describes every slot, so an allocation there starts one process, not two.
 */
export async function readInventory(env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  const query = await runNvidiaSmi(GPU_QUERY_ARGS, env);
  if (query === null) return { slots: [], unusable: [], gpus: [] };
  const needList = parseGpuQuery(query).some((g) => g.migEnabled);
  const list = needList ? await runNvidiaSmi(['-L'], env) : null;
  if (needList && list === null) return { slots: [], unusable: [], gpus: [] };
  return buildInventory(list, query);
}

/**
 * Joins the two outputs; without -L (null) the GPUs are the query's, with no
 * MIG instances. Exported for unit tests.
 */
export function buildInventory(listText: string | null, queryText: string): Inventory {
  const queriedGpus = parseGpuQuery(queryText);
  const listed =
    listText === null ? queriedGpus.map((q) => ({ index: q.index, uuid: q.uuid, name: q.name, mig: [] })) : parseGpuList(listText);
  const queried = new Map(queriedGpus.map((g) => [g.uuid, g]));
  const slots: Slot[] = [];
  const unusable: UnusableGpu[] = [];
  const gpus: Inventory['gpus'] = [];
  for (const g of listed) {
    const q = queried.get(g.uuid);
    if (!q) throw new InventoryError(`nvidia-smi -L lists ${g.uuid} but --query-gpu does not; refusing to guess`);
    const name = q.name || g.name;
    const migEnabled = q.migEnabled || g.mig.length > 0;
    gpus.push({ index: g.index, uuid: g.uuid, name, migEnabled, migDevices: g.mig.map((m) => m.uuid) });
    if (!migEnabled) {
      const s: Slot = { uuid: g.uuid, slot: String(g.index), name, weight: 1, mig: false, gpuIndex: g.index, gpuUuid: g.uuid };
      if (q.memoryMiB !== undefined) s.memoryMiB = q.memoryMiB;
      slots.push(s);
      continue;
    }
    // A GPU in MIG mode is never handed out whole: CUDA cannot use it, and its instances would look free.
    if (g.mig.length === 0) {
      unusable.push({ uuid: g.uuid, slot: String(g.index), name, reason: 'MIG mode is on but no MIG instances exist' });
      continue;
    }
    const slices = slicesPerGpu(name);
    for (const m of g.mig) {
      slots.push({
        uuid: m.uuid,
        slot: `${g.index}.${m.device}`,
        name: `${name} MIG ${m.profile}`,
        weight: migProfileWeight(m.profile, slices),
        mig: true,
        gpuIndex: g.index,
        gpuUuid: g.uuid,
        profile: m.profile,
      });
    }
  }
  if (listed.length === 0 && queried.size > 0) throw new InventoryError('nvidia-smi -L listed no GPUs but --query-gpu did');
  slots.sort((a, b) => compareSlotIds(a.slot, b.slot));
  unusable.sort((a, b) => compareSlotIds(a.slot, b.slot));
  return { slots, unusable, gpus };
}

/**
 * Maps a device id as Docker holds it (`GPU-…`/`MIG-…` UUID, a GPU index
 * `0`, or `2:1` for MIG device 1 of GPU 2) to the UUIDs of the slots it covers.
 * A whole GPU in MIG mode covers all its instances.
 */
export function slotUuidsForDevice(inv: Inventory, device: string): string[] {
  const bySlot = (id: string) => inv.slots.find((s) => s.slot === id);
  const gpuCover = (gpu: Inventory['gpus'][number]) => (gpu.migEnabled ? gpu.migDevices : [gpu.uuid]);
  if (device.startsWith('MIG-')) return [device];
  if (device.startsWith('GPU-')) {
    const gpu = inv.gpus.find((g) => g.uuid === device);
    return gpu ? gpuCover(gpu) : [device];
  }
  const mig = /^(\d+):(\d+)$/.exec(device);
  if (mig) {
    const s = bySlot(`${mig[1]}.${mig[2]}`);
    return s ? [s.uuid] : [];
  }
  if (/^\d+$/.test(device)) {
    const gpu = inv.gpus.find((g) => g.index === Number(device));
    return gpu ? gpuCover(gpu) : [];
  }
  return [device];
}
