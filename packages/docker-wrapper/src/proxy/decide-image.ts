import { LABELS } from '@ds01/events-core/labels';
import { checkTarget } from '../check-ownership.js';
import { Denial } from '../deny.js';
import { checkNoDs01Labels, labelsOfJson, withOwnerLabel } from '../rules/owner-label.js';
import type { Decision } from './decide-request.js';
import { checkImageRemoval, checkTagTarget, inspectImage, tagWritten } from './image-ownership.js';
import { needBody, parseJsonBody, type RequestInfo, withQuery } from './request-parts.js';
import { pinImage } from './route-request.js';
import type { UserSession } from './user-session.js';

/** `POST /build`: the image is labelled as the caller's; host networking and moving a tag not the caller's are refused. */
export async function decideBuild(session: UserSession, info: RequestInfo, query: URLSearchParams, operation: string): Promise<Decision> {
  const { ctx, user } = session;
  const mode = query.get('networkmode');
  if (mode && mode.toLowerCase() === 'host' && ctx.policy.deniedFlags.has('host-namespace'))
    throw new Denial('host-namespace', 'a build with --network host shares the host network', 'Build without --network host.');
  let given: unknown = {};
  const raw = query.get('labels');
  if (raw) {
    try {
      given = JSON.parse(raw);
    } catch {
      throw new Denial('bad-request', 'the build labels are not JSON', 'Send labels as a JSON object.');
    }
  }
  // Labels of the query are applied after the Dockerfile's (both builders), so the owner label wins over a LABEL in it.
  const labels = withOwnerLabel(labelsOfJson(given), user, 'image');
  // Each `t` is written (an empty one fails the build). The new image is the caller's, so an existing tag always moves.
  await Promise.all(
    query
      .getAll('t')
      .filter((t) => t !== '')
      .map((t) => checkTagTarget(session, tagWritten(t), operation)),
  );
  const q = new URLSearchParams(query);
  q.set('labels', JSON.stringify(labels));
  return { action: 'forward', path: withQuery(info.url, q) };
}

/** A Dockerfile LABEL instruction among commit or import changes that names a ds01.* label (quotes and escapes dropped). */
function ds01LabelChange(changes: readonly string[], user: string): string | undefined {
  // The engine reads the changes as one Dockerfile, one per line; a backslash at a line's end continues it.
  const lines = changes
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/);
  return lines.find((line) => {
    const words = line.trim();
    if (!/^label\s/i.test(words)) return false;
    const plain = words.replace(/["'\\]/g, '');
    return plain.includes('ds01.') && plain.replace(/^label\s+/i, '') !== `${LABELS.user}=${user}`;
  });
}

/**
 * The `changes` of a commit or an import (Dockerfile instructions the engine
 * applies in order, after the body's config): a user's LABEL of ds01's is
 * refused, and a last `LABEL ds01.user=<user>` makes the image the caller's.
 * Returns the query to forward.
 */
function withOwnerChange(query: URLSearchParams, user: string): URLSearchParams {
  const bad = ds01LabelChange(query.getAll('changes'), user);
  if (bad) throw new Denial('ds01-label', `the change '${bad.trim()}' sets a label of ds01's`, 'Remove it; ds01 labels your image itself.');
  const q = new URLSearchParams(query);
  q.append('changes', `LABEL "${LABELS.user}"="${user}"`);
  return q;
}

/**
 * `POST /commit`: the container must be the caller's (pinned to the checked
 * id), the image is labelled as the caller's, and a tag it writes may be
 * moved only off an image of the caller's. The engine builds the committed
 * config from the body, then applies `changes` in order, then fills what is
 * missing from the container's: a last `LABEL ds01.user=<user>` change
 * therefore wins.
 */
export async function decideCommit(session: UserSession, info: RequestInfo, query: URLSearchParams, operation: string): Promise<Decision> {
  const { ctx, docker, user } = session;
  const ref = query.get('container');
  const found = ref ? await checkTarget(ctx, docker, ref, { operation, change: false }) : null;
  const raw = await needBody(info);
  // The Docker CLI sends no body (or `null`) unless a config is given.
  const text = raw.toString('utf8').trim();
  if (text !== '' && text !== 'null') checkNoDs01Labels(labelsOfJson(parseJsonBody(raw).Labels), user, 'image');
  const q = withOwnerChange(query, user);
  const repo = query.get('repo');
  if (repo) await checkTagTarget(session, tagWritten(repo, query.get('tag')), operation);
  if (found) q.set('container', found.facts.id);
  return { action: 'forward', path: withQuery(info.url, q), body: raw };
}

/** `DELETE /images/{name}`: your own images; one without an owner only by an administrator. */
export async function decideImageRemove(session: UserSession, info: RequestInfo, name: string, operation: string): Promise<Decision> {
  await checkImageRemoval(session, name, operation);
  return { action: 'forward', path: info.url };
}

/**
 * `POST /images/{name}/tag?repo=&tag=`: an existing tag may be moved only off
 * an image of the caller's; naming the same image again is no move. The
 * request then names the checked image by its id, so a name that moves
 * meanwhile cannot bring another image under the tag.
 */
export async function decideImageTag(
  session: UserSession,
  info: RequestInfo,
  name: string,
  query: URLSearchParams,
  operation: string,
): Promise<Decision> {
  const repo = query.get('repo');
  // No repo: the engine refuses the request itself.
  if (!repo) return { action: 'forward', path: info.url };
  // No such image (yet): the engine answers 404, unless it appears meanwhile; the tag is then checked as if it moved.
  const source = await inspectImage(session, name);
  await checkTagTarget(session, tagWritten(repo, query.get('tag')), operation, source?.id);
  return { action: 'forward', path: source ? pinImage(info.url, source.id) : info.url };
}

/**
 * `POST /images/create`: with `fromImage` a pull, allowed (the name then means
 * what the registry says); without, an import (`docker import`), labelled as
 * the caller's through its `changes` as a commit is, whose `repo`/`tag` may
 * move an existing tag only off an image of the caller's. The body (the
 * tarball) is streamed through untouched.
 */
export async function decideImageCreate(
  session: UserSession,
  info: RequestInfo,
  query: URLSearchParams,
  operation: string,
): Promise<Decision> {
  // The engine imports whenever fromImage is empty, whatever fromSrc says.
  if (query.get('fromImage')) return { action: 'forward', path: info.url };
  const q = withOwnerChange(query, session.user);
  const repo = query.get('repo');
  if (repo) await checkTagTarget(session, tagWritten(repo, query.get('tag')), operation);
  return { action: 'forward', path: withQuery(info.url, q) };
}
