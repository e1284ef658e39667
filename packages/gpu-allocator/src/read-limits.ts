import { type LimitSource, resolveLifecycleLimit, resolveUserLimits, type SiteConfig, sanitiseUserName } from '@ds01/events-core/config';

export interface Sourced<T> {
  value: T;
  source: LimitSource;
}

/** The GPU limits of one user, each with the layer it came from. */
export interface GpuLimits {
  user: string;
  group: string;
  groupSource: string;
  /** Total GPU-equivalents across the user's containers; null: unlimited. */
  maxGpuEquivalents: Sourced<number | null>;
  /** Slots in one container; null: unlimited. */
  maxSlotsPerContainer: Sourced<number | null>;
  allowFullGpu: Sourced<boolean>;
  /** `aggregate.gpu_limit`; null: none. */
  aggregateGpuLimit: Sourced<number | null>;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function readGpuLimits(config: SiteConfig, user: string): GpuLimits {
  const r = resolveUserLimits(config, user);
  const src = (k: string): LimitSource => r.sources[k] ?? 'builtin';
  const agg = r.aggregate && 'gpu_limit' in r.aggregate ? num(r.aggregate.gpu_limit) : null;
  const override = config.overrides.get(user) ?? config.overrides.get(sanitiseUserName(user));
  const groupBlock = config.groups.find((g) => g.name === r.group)?.limits;
  const aggSource: LimitSource =
    override && 'aggregate' in override ? 'override' : groupBlock && 'aggregate' in groupBlock ? `group:${r.group}` : 'defaults';
  return {
    user,
    group: r.group,
    groupSource: r.groupSource,
    maxGpuEquivalents: { value: num(r.values.max_gpu_equivalents), source: src('max_gpu_equivalents') },
    maxSlotsPerContainer: { value: num(r.values.max_gpu_slots_per_container), source: src('max_gpu_slots_per_container') },
    allowFullGpu: { value: r.values.allow_full_gpu === true, source: src('allow_full_gpu') },
    aggregateGpuLimit: { value: agg, source: agg === null ? 'builtin' : aggSource },
  };
}

/** Hours a stopped container of this owner and type keeps its GPUs: 0 none, null until removed. */
export function holdHours(config: SiteConfig, user: string, type: string): Sourced<number | null> {
  return resolveLifecycleLimit(config, user, type, 'gpu_hold_after_stop_h');
}

/** The `gpu_allocation` section's ds01 settings. */
export function allocationSettings(config: SiteConfig): { reservationTtlS: number; lockTimeoutMs: number | undefined } {
  const g = (config.raw.gpu_allocation ?? {}) as Record<string, unknown>;
  const ttl = num(g.reservation_ttl_s);
  const lock = num(g.lock_timeout_s);
  return { reservationTtlS: ttl !== null && ttl > 0 ? ttl : 120, lockTimeoutMs: lock !== null && lock > 0 ? lock * 1000 : undefined };
}
