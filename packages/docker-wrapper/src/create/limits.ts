import { Denial } from '../deny.js';
import type { ParsedOption } from '../parse-args.js';
import { optionValues } from '../parse-args.js';
import { parseDockerSize } from './sizes.js';

/** The per-container limits a user gets from the site config (null: no limit). */
export interface ContainerLimits {
  memory: string | null;
  memorySwap: string | null;
  cpus: number | null;
  pidsLimit: number | null;
  shmSize: string | null;
}

export function containerLimitsOf(values: Record<string, unknown>): ContainerLimits {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    memory: str(values.memory),
    memorySwap: str(values.memory_swap),
    cpus: num(values.max_cpus),
    pidsLimit: num(values.pids_limit),
    shmSize: str(values.shm_size),
  };
}

const last = (xs: string[]) => xs[xs.length - 1];

function sizeWithin(flag: string, given: string, max: string, hint: string): void {
  const bytes = parseDockerSize(given);
  const cap = parseDockerSize(max);
  if (bytes === null) throw new Denial('limits', `${flag} ${given} is not a size docker accepts`, 'Use a size such as 8g or 512m.');
  // -1 is docker's "unlimited" for --memory-swap; 0 means "unset" (so, unlimited) for the others.
  if (cap !== null && (bytes === 0 || bytes > cap)) throw new Denial('limits', `${flag} ${given} is above your limit of ${max}`, hint);
}

/**
 * Checks the limit flags a user gave against their maximums and returns the
 * flags to add for those they left out. Used by run/create (add) and update (check only).
 */
export function applyLimits(options: readonly ParsedOption[], limits: ContainerLimits, add: boolean): string[] {
  const out: string[] = [];
  const hint = 'Your limits: `ds01-gpu limits --user $USER --json` or ask an administrator.';
  const memory = last(optionValues(options, '-m', '--memory'));
  if (limits.memory) {
    if (memory !== undefined) sizeWithin('--memory', memory, limits.memory, hint);
    else if (add) out.push(`--memory=${limits.memory}`);
  }
  const swap = last(optionValues(options, '--memory-swap'));
  if (limits.memorySwap) {
    if (swap !== undefined) {
      if (swap.trim() === '-1')
        throw new Denial('limits', `--memory-swap -1 (unlimited) is above your limit of ${limits.memorySwap}`, hint);
      sizeWithin('--memory-swap', swap, limits.memorySwap, hint);
    } else if (add) out.push(`--memory-swap=${limits.memorySwap}`);
  }
  const cpus = last(optionValues(options, '--cpus'));
  const quota = last(optionValues(options, '--cpu-quota'));
  const period = last(optionValues(options, '--cpu-period'));
  if (limits.cpus !== null) {
    if (cpus !== undefined) {
      const n = Number(cpus);
      if (!Number.isFinite(n) || n <= 0 || n > limits.cpus)
        throw new Denial('limits', `--cpus ${cpus} is above your limit of ${limits.cpus}`, hint);
    } else if (quota !== undefined || period !== undefined) {
      const q = Number(quota ?? -1);
      const p = Number(period ?? 100000);
      if (!(q > 0 && p > 0 && q / p <= limits.cpus))
        throw new Denial('limits', `--cpu-quota/--cpu-period give more than your limit of ${limits.cpus} CPUs`, hint);
    } else if (add) out.push(`--cpus=${limits.cpus}`);
  }
  const pids = last(optionValues(options, '--pids-limit'));
  if (limits.pidsLimit !== null) {
    if (pids !== undefined) {
      const n = Number(pids);
      if (!Number.isInteger(n) || n <= 0 || n > limits.pidsLimit)
        throw new Denial('limits', `--pids-limit ${pids} is above your limit of ${limits.pidsLimit}`, hint);
    } else if (add) out.push(`--pids-limit=${limits.pidsLimit}`);
  }
  const shm = last(optionValues(options, '--shm-size'));
  if (limits.shmSize) {
    if (shm !== undefined) sizeWithin('--shm-size', shm, limits.shmSize, hint);
    else if (add) out.push(`--shm-size=${limits.shmSize}`);
  }
  return out;
}
