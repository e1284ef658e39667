import { LABELS } from '@ds01/events-core/labels';
import { enforceOwnership, ownerRefusal } from '../check-ownership.js';
import { Denial } from '../deny.js';
import type { UserSession } from './user-session.js';

/**
 * Images belong to whoever `ds01.user` names in their config: the proxy sets
 * it on every image a user builds, commits or imports. An image without it
 * (pulled, loaded, built before ds01) is the shared cache: only administrators
 * remove or untag it, or move one of its tags.
 */

/**
 * The tag the engine writes for `repo` (and `tag`), as its RepoTagReference
 * and build's tag parsing read them: a digest in `repo` is dropped, a `tag`
 * replaces the one in `repo`, and with neither it is `latest`. Names are not
 * normalised here: the engine's own lookup (`GET /images/{name}/json`)
 * reads `docker.io/library/ubuntu:22.04` as `ubuntu:22.04`.
 */
export function tagWritten(repo: string, tag?: string | null): string {
  const at = repo.indexOf('@');
  const named = at < 0 ? repo : repo.slice(0, at);
  const colon = named.lastIndexOf(':');
  const tagged = colon > named.lastIndexOf('/');
  const name = tagged ? named.slice(0, colon) : named;
  return `${name}:${tag || (tagged ? named.slice(colon + 1) : 'latest')}`;
}

/**
 * A tag as the engine prints it (`docker.io/library/ubuntu:22.04` →
 * `ubuntu:22.04`), for messages and events only: the lookup is the engine's.
 */
export function familiarTag(tag: string): string {
  let rest = tag;
  const slash = tag.indexOf('/');
  if (slash >= 0) {
    const first = tag.slice(0, slash);
    const domain = first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
    if (domain && first !== 'docker.io' && first !== 'index.docker.io') return tag;
    if (domain) rest = tag.slice(slash + 1);
  }
  const lib = 'library/';
  return rest.startsWith(lib) && !rest.slice(lib.length).includes('/') ? rest.slice(lib.length) : rest;
}

/** An image as the rules see it: its id and owner label ('' when it has none). */
export interface ImageFacts {
  id: string;
  owner: string;
}

/** The image a name (tag, id, digest) resolves to, as the engine resolves it; null when there is no such image. */
export async function inspectImage(session: UserSession, ref: string): Promise<ImageFacts | null> {
  const path = `/images/${ref.split('/').map(encodeURIComponent).join('/')}/json`;
  const r = await session.docker.request<{ Id?: string; Config?: { Labels?: Record<string, string> | null } | null; message?: string }>(
    'GET',
    path,
  );
  // 404: no such image; 400: not a valid reference. The engine answers the request itself.
  if (r.status === 404 || r.status === 400) return null;
  if (r.status !== 200) throw new Error(`inspect image ${ref}: ${r.status} ${r.json?.message ?? ''}`);
  return { id: r.json?.Id ?? '', owner: r.json?.Config?.Labels?.[LABELS.user] ?? '' };
}

/**
 * `DELETE /images/{name}`, as `volume rm` (checkVolumeRemoval): your own
 * images only; one without an owner (pulled, the shared cache) only by an
 * administrator, with or without `force`: a plain removal frees its tag,
 * which a user could then create anew on an image of their own. A missing
 * one is left to the engine.
 */
export async function checkImageRemoval(session: UserSession, name: string, operation: string): Promise<void> {
  if (session.ctx.identity.isAdmin) return;
  const image = await inspectImage(session, name);
  if (!image) return;
  const refusal = await ownerRefusal(image.owner, session.user, {
    unowned: () =>
      new Denial(
        'unowned-image',
        `image '${name}' has no owner: images without an owner (pulled ones) are shared, and only administrators remove them`,
        'Ask an administrator, or remove your own images: see `docker images`.',
        name,
      ),
    notOwner: (o) =>
      new Denial('not-owner', `image '${name}' belongs to ${o}`, 'You can only remove your own images: see `docker images`.', name),
  });
  if (refusal) enforceOwnership(session.ctx, refusal, operation);
}

/**
 * A tag about to be written (tag, build -t, commit and import REPO:TAG), as
 * `tagWritten` gives it. A tag that does not exist yet is free. One that
 * exists moves for every user, so it may be moved only off an image of the
 * caller's: another user's → `not-owner`, an unowned (shared, pulled) one →
 * `unowned-image`. `image` is the id the tag is to name, when it is known
 * (tag): naming the same image again moves nothing.
 */
export async function checkTagTarget(session: UserSession, written: string, operation: string, image?: string): Promise<void> {
  const current = await inspectImage(session, written);
  if (!current || (image !== undefined && current.id === image)) return;
  const tag = familiarTag(written);
  const refusal = await ownerRefusal(current.owner, session.user, {
    unowned: () =>
      new Denial(
        'unowned-image',
        `the tag '${tag}' is shared (its image has no owner), and moving it would change that image for every user`,
        `Choose another name, e.g. '${session.user}/${tag.slice(tag.lastIndexOf('/') + 1)}'.`,
        tag,
      ),
    notOwner: (o) =>
      new Denial('not-owner', `the tag '${tag}' is on ${o}'s image`, 'Choose another name: moving a tag moves it for everyone.', tag),
  });
  if (refusal) enforceOwnership(session.ctx, refusal, operation);
}
