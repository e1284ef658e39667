import { LABELS } from '@ds01/events-core/labels';
import { enforceOwnership, sameUser } from '../check-ownership.js';
import { Denial } from '../deny.js';
import type { UserSession } from './user-session.js';

/**
 * Images belong to whoever `ds01.user` names in their config: the proxy sets
 * it on every image a user builds or commits. An image without it (pulled,
 * loaded, built before ds01) is the shared cache: anyone may untag it, only
 * administrators force its removal.
 */

/** `name` with `:latest` when it names no tag (nor a digest): the tag an engine writes for it. */
export function withDefaultTag(name: string): string {
  if (name.includes('@')) return name;
  return name.lastIndexOf(':') > name.lastIndexOf('/') ? name : `${name}:latest`;
}

/** The image's owner label ('' when it has none), or null when there is no such image. */
export async function imageOwner(session: UserSession, ref: string): Promise<string | null> {
  const path = `/images/${ref.split('/').map(encodeURIComponent).join('/')}/json`;
  const r = await session.docker.request<{ Config?: { Labels?: Record<string, string> | null } | null; message?: string }>('GET', path);
  // 404: no such image; 400: not a valid reference. The engine answers the request itself.
  if (r.status === 404 || r.status === 400) return null;
  if (r.status !== 200) throw new Error(`inspect image ${ref}: ${r.status} ${r.json?.message ?? ''}`);
  return r.json?.Config?.Labels?.[LABELS.user] ?? '';
}

/** Engine booleans: anything but empty, 0, no, false, none is true. */
const truthy = (v: string | null) => v !== null && !['', '0', 'no', 'false', 'none'].includes(v.toLowerCase());

/** `DELETE /images/{name}`: not another user's image; `force` (untag everywhere, even under containers) on an unowned one is for admins. */
export async function checkImageRemoval(session: UserSession, name: string, query: URLSearchParams, operation: string): Promise<void> {
  const owner = await imageOwner(session, name);
  if (owner === null) return;
  if (owner !== '') {
    if (!(await sameUser(owner, session.user)))
      enforceOwnership(
        session.ctx,
        new Denial('not-owner', `image '${name}' belongs to ${owner}`, 'You can only remove your own images: see `docker images`.', name),
        operation,
      );
    return;
  }
  if (truthy(query.get('force')))
    enforceOwnership(
      session.ctx,
      new Denial(
        'unowned-image',
        `image '${name}' has no owner, and only administrators force its removal (it untags images other users' containers use)`,
        'Remove it without --force, or ask an administrator.',
        name,
      ),
      operation,
    );
}

/** A tag about to be written (tag, build -t, commit REPO:TAG): it may not be moved off another user's image. */
export async function checkTagTarget(session: UserSession, target: string, operation: string): Promise<void> {
  const tag = withDefaultTag(target);
  const owner = await imageOwner(session, tag);
  if (owner && !(await sameUser(owner, session.user)))
    enforceOwnership(
      session.ctx,
      new Denial('not-owner', `the tag '${tag}' is on ${owner}'s image`, 'Choose another name: moving a tag moves it for everyone.', tag),
      operation,
    );
}
