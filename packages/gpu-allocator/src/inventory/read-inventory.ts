import { migProfileWeight, slicesPerGpu } from './mig-weight.js';
import { parseGpuList } from './parse-list.js';
import { parseGpuQuery, QUERY_FIELDS } from './parse-query.js';
import { compareSlotIds } from './slot-order.js';
import type { Inventory, Slot, UnusableGpu } from './types.js';

/** nvidia-smi failed or is missing: nothing may be handed out (fails closed). */
export class InventoryError extends Error {
  override name = 'InventoryError';
}

export function nvidiaSmiPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_NVIDIA_SMI || 'nvidia-smi';
}

function timeoutMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.DS01_NVIDIA_SMI_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 15_000;
}

/** nvidia-smi's answer on a host without GPUs (exit 6): an empty inventory, not a failure. */
const NO_DEVICES = /No devices were found/i;

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  const bin = nvidiaSmiPath(env);
  // Loaded here, not at start-up: execa's set-up (~25 ms) then runs while Docker answers the listing asked for first.
  const { execa } = await import('execa');
  const result = await execa(bin, args, { timeout: timeoutMs(env), reject: false, env, extendEnv: false, stripFinalNewline: false });
  if (result.exitCode === 0 && !result.timedOut) return String(result.stdout);
  const said = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  if (result.exitCode === 6 && NO_DEVICES.test(String(result.stdout))) return null;
  if (result.timedOut) throw new InventoryError(`${bin} ${args[0]} did not answer within ${timeoutMs(env) / 1000}s`);
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || /ENOENT/.test(String(result.message ?? ''))) {
    throw new InventoryError(`${bin} not found (set DS01_NVIDIA_SMI to its path)`);
  }
  throw new InventoryError(`${bin} ${args[0]} failed (exit ${result.exitCode ?? result.signal ?? '?'})${said ? `: ${said}` : ''}`);
}

/**
 * Builds the slot inventory from `--query-gpu`, plus `-L` when a GPU is in MIG
 * mode: only -L names MIG instances, and on a host without MIG the query alone
 * describes every slot, so an allocation there starts one process, not two.
 */
export async function readInventory(env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  const query = await run([`--query-gpu=${QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], env);
  if (query === null) return { slots: [], unusable: [], gpus: [] };
  const needList = parseGpuQuery(query).some((g) => g.migEnabled);
  const list = needList ? await run(['-L'], env) : null;
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
