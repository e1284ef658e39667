import type { ContainerLimits } from '../create/limits.js';
import { parseDockerSize } from '../create/sizes.js';
import { Denial } from '../deny.js';

/** The HostConfig fields that carry per-container limits (create and update bodies). */
export interface LimitFields {
  Memory?: number | null;
  MemorySwap?: number | null;
  NanoCpus?: number | null;
  CpuQuota?: number | null;
  CpuPeriod?: number | null;
  PidsLimit?: number | null;
  ShmSize?: number | null;
}

const HINT = 'Your limits: `ds01-gpu limits --user $USER --json` or ask an administrator.';
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const set = (v: unknown) => num(v) !== null && (v as number) !== 0;

function above(field: string, given: number, max: string | number): Denial {
  return new Denial('limits', `${field} ${given} is above your limit of ${max}`, HINT);
}

/**
 * The wrapper's limit rules on an API body. On create (`add`) a field left
 * out, 0 or (pids) negative is set to the user's value, since on create all
 * of them mean "unlimited"; a value above the user's is refused. On update
 * 0/null mean "unchanged" and are left alone, while the forms that mean
 * "unlimited" (-1) are refused.
 */
export function applyApiLimits(host: LimitFields, limits: ContainerLimits, add: boolean): void {
  const cap = (s: string | null) => (s ? parseDockerSize(s) : null);
  const memory = cap(limits.memory);
  if (memory !== null) {
    const v = num(host.Memory);
    if (v !== null && v > memory) throw above('Memory', v, limits.memory!);
    if (v !== null && v < 0) throw above('Memory', v, limits.memory!);
    if (add && !set(v)) host.Memory = memory;
  }
  const swap = cap(limits.memorySwap);
  if (swap !== null) {
    const v = num(host.MemorySwap);
    if (v !== null && (v > swap || v < 0)) throw above('MemorySwap', v, limits.memorySwap!);
    if (add && !set(v)) host.MemorySwap = swap;
  }
  if (limits.cpus !== null) {
    const nano = num(host.NanoCpus);
    const quota = num(host.CpuQuota);
    const period = num(host.CpuPeriod);
    if (nano !== null && (nano < 0 || nano > limits.cpus * 1e9))
      throw above('NanoCpus', nano, `${limits.cpus * 1e9} (${limits.cpus} CPUs)`);
    if (quota !== null && quota !== 0) {
      const p = period && period > 0 ? period : 100000;
      if (quota < 0 || quota / p > limits.cpus) throw above('CpuQuota', quota, `${limits.cpus} CPUs (quota/period)`);
    }
    if (add && !set(nano) && !set(quota)) host.NanoCpus = Math.round(limits.cpus * 1e9);
  }
  if (limits.pidsLimit !== null) {
    const v = num(host.PidsLimit);
    if (v !== null && v > limits.pidsLimit) throw above('PidsLimit', v, limits.pidsLimit);
    if (!add && v !== null && v <= 0) throw above('PidsLimit', v, limits.pidsLimit);
    if (add && (v === null || v <= 0)) host.PidsLimit = limits.pidsLimit;
  }
  const shm = cap(limits.shmSize);
  if (shm !== null) {
    const v = num(host.ShmSize);
    if (v !== null && v > shm) throw above('ShmSize', v, limits.shmSize!);
    if (add && !set(v)) host.ShmSize = shm;
  }
}
