import type { LimitBlock, SiteConfig } from './load.js';
import { sanitiseUserName, userSliceName } from './names.js';

/** Where a resolved value came from, so tools can tell an admin why a limit applies. */
export type LimitSource = 'builtin' | 'defaults' | `group:${string}` | 'override' | `container_type:${string}` | 'policies';

export interface ResolvedLimits {
  user: string;
  /** The group used for limits and the slice: the matched group, else default_group. */
  group: string;
  /** How the group was chosen. */
  groupSource: 'member' | 'default_group' | 'none';
  hasOverride: boolean;
  values: Record<string, unknown>;
  sources: Record<string, LimitSource>;
  policies: Record<string, unknown>;
  policySources: Record<string, LimitSource>;
  /** Per-user aggregate caps; null means no cap. */
  aggregate: Record<string, unknown> | null;
  slice: string;
}

/** Built-in policy values, used when neither the config nor a group sets them. */
export const BUILTIN_POLICIES: Record<string, unknown> = {
  high_demand_threshold: 0.8,
  high_demand_idle_reduction: 0.5,
  gpu_idle_threshold: 5,
  cpu_idle_threshold: 2.0,
  network_idle_threshold: 1_048_576,
  idle_detection_window: 3,
  grace_period_m: 30,
  keepalive_max_duration_h: 24,
  sigterm_grace_s: 60,
  created_container_timeout_m: 30,
  warning_lead_m: 10,
  runtime_mode: 'accumulated',
  idle_cpu_only_containers: false,
};

/** Used only when the config's `defaults` leaves a GPU key out: the safe side. */
const BUILTIN_LIMITS: Record<string, unknown> = {
  max_gpu_equivalents: 1,
  max_gpu_slots_per_container: 1,
  allow_full_gpu: false,
};

function findOverride(config: SiteConfig, user: string): LimitBlock | undefined {
  return config.overrides.get(user) ?? config.overrides.get(sanitiseUserName(user));
}

/** The first group in file order that lists the user (exact or sanitised name). */
export function groupOf(config: SiteConfig, user: string): { name: string; source: 'member' | 'default_group' | 'none' } {
  const clean = sanitiseUserName(user);
  const member = config.groups.find((g) => g.members.has(user) || g.members.has(clean));
  if (member) return { name: member.name, source: 'member' };
  if (config.groups.some((g) => g.name === config.defaultGroup)) return { name: config.defaultGroup, source: 'default_group' };
  return { name: config.defaultGroup, source: 'none' };
}

/**
 * A user's limits, layered: defaults, then their group (or default_group),
 * then their override — each key from the most specific layer that sets it,
 * so an explicit null (no limit) in a higher layer wins. DS01 skipped the group
 * entirely when an override existed; ds01 layers instead (see the README).
 * `policies` merge key by key over the global `policies`; `aggregate` is taken
 * whole from the most specific layer that has one.
 */
export function resolveUserLimits(config: SiteConfig, user: string): ResolvedLimits {
  const { name: group, source: groupSource } = groupOf(config, user);
  const groupBlock = config.groups.find((g) => g.name === group)?.limits;
  const override = findOverride(config, user);

  const layers: [LimitSource, LimitBlock | undefined][] = [
    ['builtin', BUILTIN_LIMITS],
    ['defaults', config.defaults],
    [`group:${group}`, groupBlock],
    ['override', override],
  ];
  const values: Record<string, unknown> = {};
  const sources: Record<string, LimitSource> = {};
  for (const [source, block] of layers) {
    if (!block) continue;
    for (const [k, v] of Object.entries(block)) {
      if (k === 'policies' || k === 'aggregate' || k === 'members' || v === undefined) continue;
      values[k] = v;
      sources[k] = source;
    }
  }

  const policies: Record<string, unknown> = {};
  const policySources: Record<string, LimitSource> = {};
  const policyLayers: [LimitSource, unknown][] = [
    ['builtin', BUILTIN_POLICIES],
    ['policies', config.raw.policies],
    ['defaults', config.defaults.policies],
    [`group:${group}`, groupBlock?.policies],
    ['override', override?.policies],
  ];
  for (const [source, block] of policyLayers) {
    if (!block || typeof block !== 'object') continue;
    for (const [k, v] of Object.entries(block as Record<string, unknown>)) {
      if (v === undefined) continue;
      policies[k] = v;
      policySources[k] = source;
    }
  }

  let aggregate: Record<string, unknown> | null = null;
  for (const block of [override, groupBlock, config.defaults]) {
    if (block && 'aggregate' in block) {
      aggregate = (block.aggregate as Record<string, unknown> | null) ?? null;
      break;
    }
  }

  return {
    user,
    group,
    groupSource,
    hasOverride: Boolean(override),
    values,
    sources,
    policies,
    policySources,
    aggregate,
    slice: userSliceName(group, user),
  };
}

/** Container types ds01 treats as created by ds01 itself (per-user limits only). */
export const NATIVE_TYPES = new Set(['orchestration', 'atomic']);
/** Lifecycle keys that `container_types.<type>` may set. */
export const LIFECYCLE_KEYS = [
  'idle_timeout_h',
  'max_runtime_h',
  'container_hold_after_stop_h',
  'gpu_hold_after_stop_h',
  'sigterm_grace_s',
] as const;
export type LifecycleKey = (typeof LIFECYCLE_KEYS)[number];

export interface ResolvedLifecycleValue {
  value: number | null;
  source: LimitSource;
}

/**
 * One lifecycle limit for a container of a given owner and type.
 * For idle, runtime and holds: the user's override, then their group (when
 * either sets the key), then `container_types.<type>` (unknown types use
 * `container_types.unknown`), then defaults. For `sigterm_grace_s`: the type
 * first, then user/group, then the global policy. null disables the limit.
 */
export function resolveLifecycleLimit(config: SiteConfig, user: string, type: string, key: LifecycleKey): ResolvedLifecycleValue {
  const limits = resolveUserLimits(config, user);
  const types = (config.raw.container_types ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const typeBlock = NATIVE_TYPES.has(type) ? undefined : (types[type] ?? types.unknown);
  const typeName = NATIVE_TYPES.has(type) ? type : types[type] ? type : 'unknown';
  const fromType =
    typeBlock && key in typeBlock
      ? { value: asNumberOrNull(typeBlock[key]), source: `container_type:${typeName}` as LimitSource }
      : undefined;

  if (key === 'sigterm_grace_s') {
    if (fromType) return fromType;
    const userSet = limits.policySources.sigterm_grace_s;
    return { value: asNumberOrNull(limits.policies.sigterm_grace_s), source: userSet ?? 'builtin' };
  }
  const source = limits.sources[key];
  if (source === 'override' || source?.startsWith('group:')) {
    return { value: asNumberOrNull(limits.values[key]), source };
  }
  if (fromType) return fromType;
  return { value: key in limits.values ? asNumberOrNull(limits.values[key]) : null, source: source ?? 'builtin' };
}

function asNumberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
