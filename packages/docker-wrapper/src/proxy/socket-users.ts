import type { SiteConfig } from '@ds01/events-core/config';
import { groupMembers } from '@ds01/events-core/identity';

/** Members of a Unix group (events-core's user database: files, then NSS). */
export const unixGroupMembers = groupMembers;

/**
 * Who gets a socket: every member of the site config's groups (inline
 * `members` and groups/<g>.members), plus the members of the Unix group
 * `docker_proxy.users_group`. Sorted, without duplicates.
 */
export function socketUsers(config: SiteConfig | null, usersGroup: string | null): string[] {
  const users = new Set<string>();
  for (const g of config?.groups ?? []) for (const m of g.members) users.add(m);
  if (usersGroup) for (const m of unixGroupMembers(usersGroup)) users.add(m);
  return [...users].sort();
}
