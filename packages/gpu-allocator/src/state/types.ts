import type { GpuRequest } from '../docker/snapshot.js';

export type AllocationState = 'pending' | 'active' | 'held' | 'revoked';
/** `create_failed`: the wrapper gives a reservation back when Docker refused the create it was for. */
export type ReleaseReason = 'removed' | 'hold_expired' | 'reservation_expired' | 'revoked' | 'manual' | 'create_failed';

export interface GpuRef {
  uuid: string;
  slot: string;
  weight: number;
}

export interface Allocation {
  /** The reservation id handed to the wrapper. */
  id: string;
  user: string;
  container: string;
  container_id: string | null;
  container_type?: string;
  state: AllocationState;
  /** Held GPUs; a revoked allocation keeps the list it had, for messages, but holds nothing. */
  gpus: GpuRef[];
  created_at: string;
  /** Last state change (ms since epoch); Docker snapshots older than this do not override it. */
  changed_at: number;
  /** pending: when the reservation lapses if no container appeared. */
  expires_at: string | null;
  /** held: when the hold ends; null while held means until the container is removed. */
  hold_until: string | null;
  stopped_at?: string | null;
  /** revoked: why the GPUs went (hold_expired, revoked, manual, conflict). */
  revoked_reason?: string;
}

export interface GpuState {
  version: 1;
  allocations: Allocation[];
  /**
   * GPU requests of containers that have no allocation, by container id.
   * DeviceRequests never change after creation, so each container is
   * inspected once; entries go when the container does.
   */
  inspected: Record<string, GpuRequest | null>;
  /** Recently removed container ids (ms), so an older snapshot cannot bring one back. */
  removed: Record<string, number>;
  updated_at: string;
}

export function emptyState(): GpuState {
  return { version: 1, allocations: [], inspected: {}, removed: {}, updated_at: new Date(0).toISOString() };
}

/** Holds GPUs right now (a revoked allocation holds none). */
export function holdsGpus(a: Allocation): boolean {
  return a.state === 'pending' || a.state === 'active' || a.state === 'held';
}

export function validateState(data: unknown): string | null {
  if (!data || typeof data !== 'object') return 'state is not an object';
  const s = data as Partial<GpuState>;
  if (s.version !== 1) return `unknown state version ${JSON.stringify(s.version)}`;
  if (!Array.isArray(s.allocations)) return 'allocations is not a list';
  for (const a of s.allocations) {
    if (!a || typeof a !== 'object' || typeof a.id !== 'string' || typeof a.user !== 'string' || !Array.isArray(a.gpus)) {
      return 'an allocation is malformed';
    }
    if (!['pending', 'active', 'held', 'revoked'].includes(a.state)) return `allocation ${a.id} has state ${a.state}`;
  }
  if (!s.inspected || typeof s.inspected !== 'object') return 'inspected is not an object';
  if (!s.removed || typeof s.removed !== 'object') return 'removed is not an object';
  return null;
}
