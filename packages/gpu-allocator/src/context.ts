import { loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { adminPolicyOf, type CallerIdentity, getCallerIdentity } from '@ds01/events-core/identity';

export interface CommandContext {
  config: SiteConfig;
  /** Whose rights apply: under plain sudo that is SUDO_USER (ds01-gpu is run through a sudoers rule). */
  caller: CallerIdentity;
}

export function loadContext(env: NodeJS.ProcessEnv = process.env): CommandContext {
  const config = loadSiteConfig();
  const policy = adminPolicyOf(config.raw);
  let caller = getCallerIdentity(policy, env);
  if (caller.sudoUser && !caller.actingAs) caller = getCallerIdentity(policy, { ...env, DS01_AS_USER: caller.sudoUser });
  return { config, caller };
}

/** Non-admins act only for themselves. */
export function mayActFor(caller: CallerIdentity, user: string): boolean {
  return caller.isAdmin || caller.user === user;
}
