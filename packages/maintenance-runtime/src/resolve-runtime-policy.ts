import {
  checkExemption,
  type ExemptionDecision,
  type ExemptionList,
  type LimitSource,
  minutesToMs,
  resolveLifecycleLimit,
  resolveUserLimits,
  type SiteConfig,
} from '@ds01/events-core/config';
import type { RuntimeMode } from './runtime-ledger.js';

/** Limits of containers nobody owns are resolved for this name (default group, then the type's table). */
export const UNKNOWN_OWNER = 'unknown';

/** Fractions of the limit at which the first and final warnings go out. */
export const FIRST_WARNING_FRACTION = 0.75;
export const FINAL_WARNING_FRACTION = 0.9;

export interface RuntimePolicy {
  /** Hours; null: no limit for this owner and type. */
  maxRuntimeH: number | null;
  maxRuntimeSource: LimitSource;
  mode: RuntimeMode;
  modeSource: LimitSource;
  /** The final warning goes out at least this long before a stop. */
  leadMs: number;
  /** Seconds between SIGTERM and SIGKILL; null: Docker's default for the container. */
  graceS: number | null;
  graceSource: LimitSource;
  exemption: ExemptionDecision;
}

function rank(source: LimitSource | undefined): number {
  if (source === 'override') return 4;
  if (source?.startsWith('group:')) return 3;
  if (source === 'defaults') return 2;
  if (source === 'policies') return 1;
  return 0;
}

/**
 * `runtime_mode` may be set as a limit (defaults, group, user override) or as a
 * policy (`policies.runtime_mode`, also inside a group or override): the most
 * specific layer wins, a limit over a policy at the same layer.
 */
function modeOf(limits: ReturnType<typeof resolveUserLimits>): { mode: RuntimeMode; source: LimitSource } {
  const asLimit = limits.values.runtime_mode;
  const asPolicy = limits.policies.runtime_mode;
  const limitSource = limits.sources.runtime_mode;
  const policySource = limits.policySources.runtime_mode;
  const useLimit = asLimit !== undefined && rank(limitSource) >= rank(policySource);
  const value = useLimit ? asLimit : asPolicy;
  return {
    mode: value === 'since_start' ? 'since_start' : 'accumulated',
    source: (useLimit ? limitSource : policySource) ?? 'builtin',
  };
}

/** Everything the job needs to judge one container of `owner` and `type`. */
export function resolveRuntimePolicy(
  config: SiteConfig,
  exemptions: ExemptionList,
  owner: string | null,
  type: string,
  now: number,
): RuntimePolicy {
  const user = owner ?? UNKNOWN_OWNER;
  const limits = resolveUserLimits(config, user);
  const max = resolveLifecycleLimit(config, user, type, 'max_runtime_h');
  const grace = resolveLifecycleLimit(config, user, type, 'sigterm_grace_s');
  const { mode, source: modeSource } = modeOf(limits);
  const lead = limits.policies.warning_lead_m;
  return {
    maxRuntimeH: max.value,
    maxRuntimeSource: max.source,
    mode,
    modeSource,
    leadMs: typeof lead === 'number' && lead > 0 ? minutesToMs(lead) : 0,
    graceS: grace.value,
    graceSource: grace.source,
    exemption: owner ? checkExemption(exemptions, owner, 'max_runtime_h', now) : { exempt: false },
  };
}
