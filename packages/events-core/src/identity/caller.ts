import { groupNames, groupsOfUser, lookupUser } from './user-db.js';

export interface AdminPolicy {
  /** `access_control.admin_users` */
  adminUsers?: readonly string[];
  /** `access_control.admin_group` (a Unix group) */
  adminGroup?: string | null;
}

export interface CallerIdentity {
  uid: number;
  gid: number;
  /** The user every rule applies to. */
  user: string;
  groups: string[];
  isAdmin: boolean;
  /** Why the caller is an admin (uid 0, admin_users, admin_group). */
  adminReason?: string;
  /** Root acting as another user through DS01_AS_USER (tests, demo). */
  actingAs: boolean;
  /** The uid of the process itself. */
  realUid: number;
  /** Under plain sudo: the invoking user, who becomes the owner of what root creates. */
  sudoUser?: string;
  /** Who owns what this caller creates: SUDO_USER under plain sudo, else `user`. */
  owner: string;
  /** A non-root process set DS01_AS_USER; it was ignored (tools log this). */
  ignoredAsUser?: string;
}

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/**
 * Who is calling, from the operating system. Only a process running as root
 * may act as another user (DS01_AS_USER), and then it has exactly that user's
 * rights. Under plain sudo, root keeps its rights and SUDO_USER only names the
 * owner of what it creates. Nobody else can change who they are.
 */
export function getCallerIdentity(policy: AdminPolicy = {}, env: NodeJS.ProcessEnv = process.env): CallerIdentity {
  const realUid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const asUser = env.DS01_AS_USER?.trim();

  if (realUid === 0 && asUser) {
    const entry = lookupUser(asUser);
    if (!entry) throw new IdentityError(`DS01_AS_USER=${asUser}: no such user`);
    const groups = groupsOfUser(entry);
    return finish({ uid: entry.uid, gid: entry.gid, user: entry.name, groups, actingAs: true, realUid, owner: entry.name }, policy);
  }

  const gid = typeof process.getgid === 'function' ? process.getgid() : -1;
  let user: string;
  try {
    // node:os only here: acting as a user (DS01_AS_USER) never loads it.
    user = process.getBuiltinModule('node:os').userInfo().username;
  } catch {
    user = `uid${realUid}`;
  }
  const gids = typeof process.getgroups === 'function' ? process.getgroups() : [];
  const groups = groupNames([...new Set([gid, ...gids])]);
  const sudoUser = realUid === 0 && env.SUDO_USER && env.SUDO_USER !== 'root' ? env.SUDO_USER : undefined;
  const identity: Omit<CallerIdentity, 'isAdmin'> = { uid: realUid, gid, user, groups, actingAs: false, realUid, owner: sudoUser ?? user };
  if (sudoUser) identity.sudoUser = sudoUser;
  if (realUid !== 0 && asUser) identity.ignoredAsUser = asUser;
  return finish(identity, policy);
}

function finish(identity: Omit<CallerIdentity, 'isAdmin'>, policy: AdminPolicy): CallerIdentity {
  let adminReason: string | undefined;
  if (identity.uid === 0) adminReason = 'uid 0';
  else if (policy.adminUsers?.includes(identity.user)) adminReason = 'access_control.admin_users';
  else if (policy.adminGroup && identity.groups.includes(policy.adminGroup)) adminReason = `member of ${policy.adminGroup}`;
  const result: CallerIdentity = { ...identity, isAdmin: adminReason !== undefined };
  if (adminReason) result.adminReason = adminReason;
  return result;
}

/** The admin policy a site config declares (access_control.admin_users / admin_group). */
export function adminPolicyOf(raw: { access_control?: unknown } | undefined): AdminPolicy {
  const ac = (raw?.access_control ?? {}) as { admin_users?: unknown; admin_group?: unknown };
  return {
    adminUsers: Array.isArray(ac.admin_users) ? ac.admin_users.map(String) : [],
    adminGroup: typeof ac.admin_group === 'string' ? ac.admin_group : null,
  };
}
