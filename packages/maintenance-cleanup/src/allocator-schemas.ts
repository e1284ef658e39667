/**
 * What this job reads from `ds01-gpu --json` (contracts.md), as JSON Schemas
 * owned by the reader. Only the fields used are required; extra fields are
 * allowed so the allocator can add to its output without breaking us.
 */

const gpuRef = {
  type: 'object',
  required: ['uuid'],
  properties: { uuid: { type: 'string' }, slot: { type: 'string' }, weight: { type: 'number' } },
} as const;

const releasedEntry = {
  type: 'object',
  required: ['gpus'],
  properties: {
    container: { type: ['string', 'null'] },
    container_id: { type: ['string', 'null'] },
    user: { type: ['string', 'null'] },
    gpus: { type: 'array', items: gpuRef },
    reason: { type: 'string' },
  },
} as const;

export const releaseStaleSchema = {
  $id: 'ds01-cleanup/ds01-gpu-release-stale',
  type: 'object',
  required: ['status', 'released'],
  properties: {
    status: { const: 'ok' },
    released: { type: 'array', items: { ...releasedEntry, required: ['gpus', 'reason'] } },
    dry_run: { type: 'boolean' },
  },
} as const;

export const releaseSchema = {
  $id: 'ds01-cleanup/ds01-gpu-release',
  type: 'object',
  required: ['status', 'released'],
  properties: { status: { const: 'released' }, released: { type: 'array', items: releasedEntry } },
} as const;

export const statusSchema = {
  $id: 'ds01-cleanup/ds01-gpu-status',
  type: 'object',
  required: ['allocations'],
  properties: {
    allocations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'state', 'gpus'],
        properties: {
          id: { type: 'string' },
          user: { type: ['string', 'null'] },
          container: { type: ['string', 'null'] },
          container_id: { type: ['string', 'null'] },
          state: { type: 'string' },
          gpus: { type: 'array', items: gpuRef },
        },
      },
    },
  },
} as const;

export const errorSchema = {
  $id: 'ds01-cleanup/ds01-gpu-error',
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } },
} as const;

export interface GpuRef {
  uuid: string;
  slot?: string;
  weight?: number;
}
export interface ReleasedEntry {
  container?: string | null;
  container_id?: string | null;
  user?: string | null;
  gpus: GpuRef[];
  reason?: string;
}
export interface ReleaseStaleOutput {
  status: 'ok';
  released: (ReleasedEntry & { reason: string })[];
  dry_run?: boolean;
}
export interface ReleaseOutput {
  status: 'released';
  released: ReleasedEntry[];
}
export interface AllocationEntry {
  id: string;
  user?: string | null;
  container?: string | null;
  container_id?: string | null;
  state: string;
  gpus: GpuRef[];
}
export interface StatusOutput {
  allocations: AllocationEntry[];
}
