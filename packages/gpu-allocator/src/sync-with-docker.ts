import type { SiteConfig } from '@ds01/events-core/config';
import { type ContainerView, type DockerSnapshot, type GpuRequest, isLive } from './docker/snapshot.js';
import { slotUuidsForDevice } from './inventory/read-inventory.js';
import type { Inventory } from './inventory/types.js';
import { coveredSlots, occupancy, type UnmanagedUse } from './occupancy.js';
import { holdHours } from './read-limits.js';
import { type Allocation, type GpuRef, type GpuState, holdsGpus, type ReleaseReason } from './state/types.js';

/** What a sync changed, for events and command output. */
export type Change =
  | { kind: 'release'; allocation: Allocation; reason: ReleaseReason }
  | { kind: 'hold'; allocation: Allocation; until: string | null }
  | { kind: 'adopt'; allocation: Allocation }
  | { kind: 'unmanaged'; container: ContainerView; devices: string[] };

export interface SyncResult {
  changes: Change[];
  unmanaged: UnmanagedUse[];
  /** Running containers whose GPUs are allocated to another container. */
  conflicts: { container: ContainerView; uuids: string[] }[];
}

const TOMBSTONE_MS = 60 * 60 * 1000;

/** Running in the sense of using a GPU now. */
function usingGpuNow(state: string): boolean {
  return state === 'running' || state === 'paused' || state === 'restarting';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The GPU request a container carries, from a fresh inspect or the cache. */
function requestOf(state: GpuState, snapshot: DockerSnapshot, id: string): GpuRequest | null | undefined {
  const fresh = snapshot.inspected.get(id);
  if (fresh) return fresh.gpu;
  return state.inspected[id];
}

/**
 * Brings the state in line with Docker, the ground truth for containers:
 * a removed container releases its slots, a stopped one starts its hold (0:
 * released at once), a restarted one is active again, a reservation whose
 * container appeared is bound and one whose container never came expires,
 * labelled ds01 containers the state does not know are adopted (this is the
 * rebuild after a lost state file), and GPU containers without an allocation
 * are recorded as unmanaged. A snapshot older than an allocation's last change
 * does not override that change: another process acted after this listing.
 */
export function syncWithDocker(
  state: GpuState,
  snapshot: DockerSnapshot,
  inventory: Inventory | null,
  config: SiteConfig,
  now: number,
): SyncResult {
  const changes: Change[] = [];
  const older = (a: Allocation) => a.changed_at < snapshot.takenAt;
  const keep: Allocation[] = [];

  for (const a of state.allocations) {
    if (a.state === 'pending') {
      const c = snapshot.byName.get(a.container);
      if (c && (c.owner === null || c.owner === a.user) && !state.allocations.some((o) => o !== a && o.container_id === c.id)) {
        a.container_id = c.id;
        a.state = 'active';
        a.expires_at = null;
        a.changed_at = Math.max(a.changed_at, snapshot.takenAt - 1);
        if (c.type && !a.container_type) a.container_type = c.type;
      } else if (a.expires_at && Date.parse(a.expires_at) <= now) {
        changes.push({ kind: 'release', allocation: a, reason: 'reservation_expired' });
        continue;
      } else {
        keep.push(a);
        continue;
      }
    }
    const c = a.container_id ? snapshot.containers.get(a.container_id) : undefined;
    if (!c) {
      if (older(a) && a.container_id) {
        state.removed[a.container_id] = now;
        if (holdsGpus(a)) changes.push({ kind: 'release', allocation: a, reason: 'removed' });
        continue;
      }
      keep.push(a);
      continue;
    }
    if (a.state === 'held' && isLive(c.state) && older(a)) {
      a.state = 'active';
      a.hold_until = null;
      a.stopped_at = null;
      a.changed_at = now;
    } else if (a.state === 'active' && !isLive(c.state) && older(a)) {
      const finished = snapshot.inspected.get(c.id)?.finishedAt ?? snapshot.takenAt;
      const stopped = Math.max(finished, a.changed_at);
      const hold = holdHours(config, a.user, a.container_type ?? c.type).value;
      a.stopped_at = iso(stopped);
      a.changed_at = now;
      if (hold === 0) {
        // 0 means no hold at all (DS01 read 0 as "forever").
        a.state = 'revoked';
        a.revoked_reason = 'hold_expired';
        a.hold_until = null;
        changes.push({ kind: 'release', allocation: a, reason: 'hold_expired' });
      } else {
        a.state = 'held';
        a.hold_until = hold === null ? null : iso(stopped + hold * 3_600_000);
        changes.push({ kind: 'hold', allocation: a, until: a.hold_until });
      }
    }
    keep.push(a);
  }
  state.allocations = keep;

  // Prune what Docker no longer has.
  for (const id of Object.keys(state.inspected)) if (!snapshot.containers.has(id)) delete state.inspected[id];
  for (const [id, at] of Object.entries(state.removed)) if (now - at > TOMBSTONE_MS) delete state.removed[id];

  const known = new Set(state.allocations.map((a) => a.container_id).filter(Boolean) as string[]);
  const unmanaged: UnmanagedUse[] = [];
  const conflicts: SyncResult['conflicts'] = [];
  const map = (d: string) => (inventory ? slotUuidsForDevice(inventory, d) : [d]);

  for (const c of snapshot.containers.values()) {
    if (known.has(c.id) || state.removed[c.id]) continue;
    const request = requestOf(state, snapshot, c.id);
    const fresh = snapshot.inspected.has(c.id);
    if (fresh) state.inspected[c.id] = request ?? null;
    const devices = request?.devices.length ? request.devices : c.gpuLabels;
    const adoptable = (c.managed || c.gpuLabels.length > 0) && c.owner !== null && devices.length > 0 && inventory !== null;
    if (adoptable) {
      const adopted = adopt(state, snapshot, c, devices.flatMap(map), inventory, config, now);
      delete state.inspected[c.id];
      known.add(c.id);
      if (adopted.state !== 'revoked') changes.push({ kind: 'adopt', allocation: adopted });
      continue;
    }
    const use = request ?? (c.gpuLabels.length > 0 ? { devices: c.gpuLabels, all: false } : null);
    if (!use) continue;
    if (!usingGpuNow(c.state)) continue;
    const uuids = inventory ? coveredSlots(inventory, use, map) : use.devices;
    unmanaged.push({ container: c, uuids, devices: use.devices, all: use.all });
    if (fresh) changes.push({ kind: 'unmanaged', container: c, devices: use.all ? ['all'] : use.devices.length ? use.devices : uuids });
  }

  // Running containers on GPUs that belong to someone else's allocation (a revoked container started
  // around the wrapper, or an unmanaged one): reported, never silently shared.
  const occ = occupancy(state, []);
  for (const a of state.allocations) {
    if (a.state !== 'revoked' || !a.container_id) continue;
    const c = snapshot.containers.get(a.container_id);
    if (!c || !usingGpuNow(c.state)) continue;
    const uuids = a.gpus.map((g) => g.uuid).filter((u) => occ.has(u));
    if (uuids.length) conflicts.push({ container: c, uuids });
  }
  for (const u of unmanaged) {
    const uuids = u.uuids.filter((x) => occ.has(x));
    if (uuids.length) conflicts.push({ container: u.container, uuids });
  }
  return { changes, unmanaged, conflicts };
}

function adopt(
  state: GpuState,
  snapshot: DockerSnapshot,
  c: ContainerView,
  uuids: string[],
  inventory: Inventory,
  config: SiteConfig,
  now: number,
): Allocation {
  const gpus: GpuRef[] = [...new Set(uuids)].map((uuid) => {
    const s = inventory.slots.find((x) => x.uuid === uuid);
    // A UUID the inventory no longer lists (GPU gone, MIG reconfigured) is charged a whole GPU.
    return { uuid, slot: s?.slot ?? '?', weight: s?.weight ?? 1 };
  });
  const occ = occupancy(state, []);
  const clash = gpus.some((g) => occ.has(g.uuid));
  const a: Allocation = {
    id: `adopted-${c.id.slice(0, 12)}`,
    user: c.owner as string,
    container: c.name,
    container_id: c.id,
    container_type: c.type,
    state: 'active',
    gpus,
    created_at: c.labels['ds01.created_at'] || iso(now),
    changed_at: now,
    expires_at: null,
    hold_until: null,
  };
  if (clash) {
    // Its GPUs already belong to another allocation: record it as revoked so a start is refused.
    a.state = 'revoked';
    a.revoked_reason = 'conflict';
  } else if (!isLive(c.state)) {
    const stopped = snapshot.inspected.get(c.id)?.finishedAt ?? snapshot.takenAt;
    const hold = holdHours(config, a.user, c.type).value;
    a.stopped_at = iso(stopped);
    if (hold === 0) {
      a.state = 'revoked';
      a.revoked_reason = 'hold_expired';
    } else {
      a.state = 'held';
      a.hold_until = hold === null ? null : iso(stopped + hold * 3_600_000);
    }
  }
  state.allocations.push(a);
  return a;
}
