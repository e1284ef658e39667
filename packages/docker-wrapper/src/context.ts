import { logEvent } from '@ds01/events-core';
import { ConfigError, loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { adminPolicyOf, type CallerIdentity, getCallerIdentity } from '@ds01/events-core/identity';
import { EVENT_SOURCE } from './deny.js';

export type EnforcementMode = 'full' | 'monitoring' | 'disabled';

/** The site's wrapper policy (access_control.wrapper), with ds01's defaults. */
export interface WrapperPolicy {
  mode: EnforcementMode;
  unknownCommands: 'allow' | 'deny';
  /** Rules refused for non-admins; the built-in list unless the site sets denied_flags. */
  deniedFlags: Set<string>;
  deniedBindMounts: string[];
}

/** Every create-time rule that `denied_flags` can switch off by leaving it out. */
export const POLICY_RULES = [
  'privileged',
  'host-namespace',
  'cap-add',
  'device',
  'runtime',
  'security-opt',
  'gpu-env',
  'bind-mount',
] as const;

export const DEFAULT_DENIED_BIND_MOUNTS = [
  '/',
  '/etc',
  '/root',
  '/boot',
  '/proc',
  '/sys',
  '/dev',
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/containerd',
  '/var/lib/docker',
  '/var/lib/ds01',
  '/var/log/ds01',
];

export interface WrapperContext {
  env: NodeJS.ProcessEnv;
  config: SiteConfig | null;
  /** Why the config could not be read (then only root is served). */
  configError?: string;
  identity: CallerIdentity;
  policy: WrapperPolicy;
}

function readPolicy(config: SiteConfig | null): WrapperPolicy {
  const w = (config?.raw.access_control?.wrapper ?? {}) as Record<string, unknown>;
  const mode = w.enforcement_mode === 'disabled' || w.enforcement_mode === 'monitoring' ? w.enforcement_mode : 'full';
  const denied = Array.isArray(w.denied_flags) ? (w.denied_flags as string[]).map((f) => f.replace(/^-+/, '')) : [...POLICY_RULES];
  const mounts = Array.isArray(w.denied_bind_mounts) ? (w.denied_bind_mounts as string[]) : DEFAULT_DENIED_BIND_MOUNTS;
  return {
    mode,
    unknownCommands: w.unknown_commands === 'allow' ? 'allow' : 'deny',
    deniedFlags: new Set(denied),
    deniedBindMounts: mounts,
  };
}

/** Config, identity and policy for one invocation. */
export function loadContext(env: NodeJS.ProcessEnv = process.env): WrapperContext {
  let config: SiteConfig | null = null;
  let configError: string | undefined;
  try {
    config = loadSiteConfig(env.DS01_CONFIG || undefined);
  } catch (err) {
    configError = err instanceof ConfigError ? err.message : (err as Error).message;
  }
  const identity = getCallerIdentity(adminPolicyOf(config?.raw), env);
  const ctx: WrapperContext = { env, config, identity, policy: readPolicy(config) };
  if (configError) ctx.configError = configError;
  if (identity.ignoredAsUser) {
    logEvent('auth.bypass', {
      user: identity.user,
      source: EVENT_SOURCE,
      details: { mode: 'as-user', allowed: false, reason: `DS01_AS_USER=${identity.ignoredAsUser} set by a non-root process` },
    });
  }
  return ctx;
}

/**
 * Admin-only switches from the environment: DS01_WRAPPER_BYPASS=1 (run the
 * real client untouched) and DS01_ISOLATION_MODE=monitoring|disabled. A
 * non-admin who sets them keeps full enforcement, and the attempt is logged.
 */
export function applyEnvSwitches(ctx: WrapperContext, operation: string): { bypass: boolean } {
  const { env, identity } = ctx;
  const wantsBypass = env.DS01_WRAPPER_BYPASS === '1' || env.DS01_WRAPPER_BYPASS === 'true';
  const wantsMode = env.DS01_ISOLATION_MODE;
  if (wantsBypass) {
    logEvent('auth.bypass', {
      user: identity.user,
      source: EVENT_SOURCE,
      details: { mode: 'bypass', operation, allowed: identity.isAdmin, reason: identity.isAdmin ? (identity.adminReason ?? 'admin') : 'not an admin' },
    });
    if (identity.isAdmin) return { bypass: true };
    process.stderr.write('ds01: DS01_WRAPPER_BYPASS is for administrators; ignored (the attempt is logged).\n');
  }
  if (wantsMode === 'monitoring' || wantsMode === 'disabled') {
    logEvent('auth.bypass', {
      user: identity.user,
      source: EVENT_SOURCE,
      details: { mode: wantsMode, operation, allowed: identity.isAdmin, reason: identity.isAdmin ? (identity.adminReason ?? 'admin') : 'not an admin' },
    });
    if (identity.isAdmin) ctx.policy.mode = wantsMode;
    else process.stderr.write(`ds01: DS01_ISOLATION_MODE=${wantsMode} is for administrators; ignored (the attempt is logged).\n`);
  }
  return { bypass: false };
}
