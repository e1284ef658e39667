import { lookupUser } from '@ds01/events-core/identity';
import { LABELS, readOwner } from '@ds01/events-core/labels';
import type { WrapperContext } from './context.js';
import { Denial, EVENT_SOURCE } from './deny.js';
import { type DockerClient, type ResolvedContainer, resolveContainer } from './docker-api.js';
import { logEvent } from './log.js';

const uidToName = (uid: number) => lookupUser(uid)?.name;

/** The same user, also across DS01's name sanitising (an owner label may hold the sanitised form). */
export async function sameUser(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const { sanitiseUserName } = await import('@ds01/events-core/config');
  return sanitiseUserName(a) === sanitiseUserName(b);
}

export interface CheckOptions {
  operation: string;
  /** The operation changes the container: protected containers are admin-only. */
  change: boolean;
}

/**
 * Checks one container reference. A reference that names no container is
 * left to the real client (which prints its own error); an existing one must
 * belong to the caller, unless the caller is an admin.
 */
export async function checkTarget(
  ctx: WrapperContext,
  docker: DockerClient,
  ref: string,
  opts: CheckOptions,
): Promise<ResolvedContainer | null> {
  const found = await resolveContainer(docker, ref);
  if (!found) return null;
  const { identity } = ctx;
  const name = found.facts.name || ref;
  const { owner } = readOwner(found.facts, uidToName);
  if (identity.isAdmin) {
    if (!owner) {
      logEvent('access.unowned_container', {
        user: identity.user,
        source: EVENT_SOURCE,
        details: { container: name, operation: opts.operation },
      });
    }
    return found;
  }
  if (opts.change && found.facts.labels[LABELS.protected] === 'true') {
    throw new Denial('protected', `container '${name}' is protected infrastructure`, 'Admin access required: ask an administrator.', name);
  }
  let problem: Denial | null = null;
  if (!owner) {
    problem = new Denial(
      'unowned-container',
      `container '${name}' has no owner label`,
      'Only administrators may act on containers that belong to nobody; ask one to label or remove it.',
      name,
    );
  } else if (!(await sameUser(owner, identity.user))) {
    problem = new Denial(
      'not-owner',
      `container '${name}' belongs to ${owner}`,
      'You can only use your own containers: see `docker ps`.',
      name,
    );
  }
  if (problem) enforceOwnership(ctx, problem, opts.operation);
  return found;
}

/**
 * Something with an owner label (a volume, an image) that `user` acts on:
 * null when it is theirs, else the refusal, `unowned()` for one with no owner
 * (''), `notOwner(owner)` for another user's.
 */
export async function ownerRefusal(
  owner: string,
  user: string,
  refuse: { unowned: () => Denial; notOwner: (owner: string) => Denial },
): Promise<Denial | null> {
  if (owner === '') return refuse.unowned();
  return (await sameUser(owner, user)) ? null : refuse.notOwner(owner);
}

/**
 * Applies an ownership refusal (containers, volumes, images): thrown, except
 * under `enforcement_mode: monitoring`, where it is logged as what would have
 * been refused and let through.
 */
export function enforceOwnership(ctx: WrapperContext, problem: Denial, operation: string): void {
  if (ctx.policy.mode !== 'monitoring') throw problem;
  logEvent('auth.bypass', {
    user: ctx.identity.user,
    source: EVENT_SOURCE,
    details: { mode: 'monitoring', operation, allowed: true, reason: `would deny: ${problem.reason}` },
  });
}

/** Checks every reference; all lookups run at once. */
export async function checkTargets(
  ctx: WrapperContext,
  docker: DockerClient,
  refs: string[],
  opts: CheckOptions,
): Promise<(ResolvedContainer | null)[]> {
  const unique = [...new Set(refs)];
  const results = await Promise.allSettled(unique.map((r) => checkTarget(ctx, docker, r, opts)));
  const byRef = new Map<string, ResolvedContainer | null>();
  for (const [i, r] of results.entries()) {
    if (r.status === 'rejected') throw r.reason;
    byRef.set(unique[i]!, r.value);
  }
  return refs.map((r) => byRef.get(r) ?? null);
}
