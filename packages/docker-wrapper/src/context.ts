import fs from 'node:fs';
import path from 'node:path';
import type { SiteConfig } from '@ds01/events-core/config';
import { readAccessSnapshot } from '@ds01/events-core/config/access-snapshot';
import { adminPolicyOf, type CallerIdentity, getCallerIdentity, lookupUser } from '@ds01/events-core/identity';
import { configFilePath } from '@ds01/events-core/paths';
import { configOverrideProblem } from './config-override.js';
import type { BindPolicy } from './create/bind-mounts.js';
import { EVENT_SOURCE } from './deny.js';
import { logEvent, relayEventsTo } from './log.js';
import { DEFAULT_SOCKET_DIR } from './proxy/proxy-settings.js';

export type EnforcementMode = 'full' | 'monitoring' | 'disabled';

/** The site's wrapper policy (access_control.wrapper), with ds01's defaults. */
export interface WrapperPolicy {
  mode: EnforcementMode;
  unknownCommands: 'allow' | 'deny';
  /** Rules refused for non-admins; the built-in list unless the site sets denied_flags. */
  deniedFlags: Set<string>;
  deniedBindMounts: string[];
  /** `allowed_bind_mounts` as written ({home}, {user} not yet filled in); null: no allow list. */
  allowedBindMounts: string[] | null;
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
  /** The validated site config, loaded on first use (run/create/update need limits; other verbs do not). Throws ConfigError. */
  fullConfig(): Promise<SiteConfig>;
  /** Why the config could not be read (then only root is served). */
  configError?: string;
  /** Why the caller's DS01_CONFIG was not used (config-override.ts): the command is refused. */
  configOverride?: string;
  identity: CallerIdentity;
  policy: WrapperPolicy;
  /** The caller's socket of the Engine API proxy (`<docker_proxy.socket_dir>/<user>/docker.sock`), when there is one; non-admins only. */
  proxySocket?: string;
}

type AccessControl = NonNullable<SiteConfig['raw']['access_control']>;

function readPolicy(ac: AccessControl | undefined): WrapperPolicy {
  const w = (ac?.wrapper ?? {}) as Record<string, unknown>;
  const mode = w.enforcement_mode === 'disabled' || w.enforcement_mode === 'monitoring' ? w.enforcement_mode : 'full';
  const denied = Array.isArray(w.denied_flags) ? (w.denied_flags as string[]).map((f) => f.replace(/^-+/, '')) : [...POLICY_RULES];
  const mounts = Array.isArray(w.denied_bind_mounts) ? (w.denied_bind_mounts as string[]) : DEFAULT_DENIED_BIND_MOUNTS;
  return {
    mode,
    unknownCommands: w.unknown_commands === 'allow' ? 'allow' : 'deny',
    deniedFlags: new Set(denied),
    deniedBindMounts: mounts,
    allowedBindMounts: Array.isArray(w.allowed_bind_mounts) ? (w.allowed_bind_mounts as string[]) : null,
  };
}

/**
 * The bind-mount paths for one user: `{user}` in `allowed_bind_mounts` is
 * their name, `{home}` their home directory. An entry allows nothing when
 * the home cannot be found or is `/` (some system accounts), or when it is
 * not an absolute path. Looked up only when the site has an allow list.
 */
export function bindPolicyFor(
  policy: WrapperPolicy,
  user: string,
  homeOf: (user: string) => string | undefined = (u) => lookupUser(u)?.home,
): BindPolicy {
  if (policy.allowedBindMounts === null) return { denied: policy.deniedBindMounts, allowed: null };
  let home: string | undefined;
  const allowed = policy.allowedBindMounts.flatMap((entry) => {
    if (entry.includes('{home}')) {
      home ??= homeOf(user) ?? '';
      if (!home.startsWith('/') || path.resolve(home) === '/') return [];
    }
    const filled = entry.replaceAll('{home}', home ?? '').replaceAll('{user}', user);
    return filled.startsWith('/') ? [filled] : [];
  });
  return { denied: policy.deniedBindMounts, allowed };
}

/**
 * Only `access_control` (who is an admin, the wrapper's policy), read without
 * validating the whole file: compiling the config schema costs more than
 * the rest of a checked command. From root's snapshot of it when that is
 * current (events-core's access-snapshot.ts: no YAML parser to load), else
 * from the YAML. Anything unexpected there falls back to the full load,
 * which reports problems with file:line.
 */
async function readAccessControl(
  file: string,
  env: NodeJS.ProcessEnv,
  seen: { proxyDir?: string },
): Promise<AccessControl | undefined | null> {
  const snap = readAccessSnapshot(file, env);
  if (snap) {
    if (snap.proxy_socket_dir) seen.proxyDir = snap.proxy_socket_dir;
    return (snap.access_control ?? undefined) as AccessControl | undefined;
  }
  try {
    // A lazy chunk of the bundle (package.json ds01.lazyChunks): read only when there is no current snapshot.
    const { parse: parseYaml } = await import('yaml');
    const raw = parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown> | null;
    if (!raw || typeof raw !== 'object') return null;
    const proxy = raw.docker_proxy as Record<string, unknown> | undefined | null;
    if (proxy && typeof proxy === 'object' && typeof proxy.socket_dir === 'string') seen.proxyDir = proxy.socket_dir;
    const ac = raw.access_control as Record<string, unknown> | undefined | null;
    if (ac === undefined || ac === null) return undefined;
    if (typeof ac !== 'object' || Array.isArray(ac)) return null;
    if (ac.admin_users !== undefined && !(Array.isArray(ac.admin_users) && ac.admin_users.every((u) => typeof u === 'string'))) return null;
    if (ac.admin_group !== undefined && ac.admin_group !== null && typeof ac.admin_group !== 'string') return null;
    if (ac.wrapper !== undefined && ac.wrapper !== null && (typeof ac.wrapper !== 'object' || Array.isArray(ac.wrapper))) return null;
    return ac as AccessControl;
  } catch {
    return null;
  }
}

/** The user's proxy socket when the proxy serves one (a socket file at `<dir>/<user>/docker.sock`). */
export function proxySocketOf(dir: string, user: string): string | undefined {
  const sock = path.join(dir, user, 'docker.sock');
  try {
    // No proxy is the common case: asked not to throw, stat skips building an error for it.
    return fs.statSync(sock, { throwIfNoEntry: false })?.isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

/** Config, identity and policy for one invocation. */
export async function loadContext(env: NodeJS.ProcessEnv = process.env): Promise<WrapperContext> {
  const file = configFilePath(env);
  const override = configOverrideProblem(file, env);
  let config: Promise<SiteConfig> | undefined;
  // The config module (ajv and the schema) loads only when limits are needed.
  const full = () => {
    config ??= override ? Promise.reject(new Error(override)) : import('@ds01/events-core/config').then((m) => m.loadSiteConfig(file));
    return config;
  };
  let configError: string | undefined;
  const seen: { proxyDir?: string } = {};
  // A config the caller may not use is not read at all: nothing in it decides who they are.
  let ac = override ? undefined : await readAccessControl(file, env, seen);
  if (ac === null) {
    try {
      const raw = (await full()).raw;
      ac = raw.access_control ?? undefined;
      const proxy = raw.docker_proxy as { socket_dir?: unknown } | undefined | null;
      if (typeof proxy?.socket_dir === 'string') seen.proxyDir = proxy.socket_dir;
    } catch (err) {
      configError = (err as Error).message;
      ac = undefined;
    }
  }
  const identity = getCallerIdentity(adminPolicyOf({ access_control: ac }), env);
  const ctx: WrapperContext = { env, fullConfig: full, identity, policy: readPolicy(ac) };
  if (configError) ctx.configError = configError;
  if (override) ctx.configOverride = override;
  if (!identity.isAdmin) {
    const sock = proxySocketOf(seen.proxyDir ?? DEFAULT_SOCKET_DIR, identity.user);
    if (sock) {
      ctx.proxySocket = sock;
      relayEventsTo(sock);
    }
  }
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
      details: {
        mode: 'bypass',
        operation,
        allowed: identity.isAdmin,
        reason: identity.isAdmin ? (identity.adminReason ?? 'admin') : 'not an admin',
      },
    });
    if (identity.isAdmin) return { bypass: true };
    process.stderr.write('ds01: DS01_WRAPPER_BYPASS is for administrators; ignored (the attempt is logged).\n');
  }
  if (wantsMode === 'monitoring' || wantsMode === 'disabled') {
    logEvent('auth.bypass', {
      user: identity.user,
      source: EVENT_SOURCE,
      details: {
        mode: wantsMode,
        operation,
        allowed: identity.isAdmin,
        reason: identity.isAdmin ? (identity.adminReason ?? 'admin') : 'not an admin',
      },
    });
    if (identity.isAdmin) ctx.policy.mode = wantsMode;
    else process.stderr.write(`ds01: DS01_ISOLATION_MODE=${wantsMode} is for administrators; ignored (the attempt is logged).\n`);
  }
  return { bypass: false };
}
