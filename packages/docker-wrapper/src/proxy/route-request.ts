/**
 * What an Engine API request is, for the rules: the path without its
 * `/v1.xx` prefix, sorted into the few kinds the proxy treats differently.
 * Anything not listed here is refused for non-admins (default deny).
 */

export type Route =
  /** Allowed as is: images (listing, inspecting, pulling...), volumes and networks (listing, inspecting), version, info... */
  | { kind: 'open' }
  /** `GET /containers/json`: the caller's containers only. */
  | { kind: 'list' }
  /** `GET /events`: the caller's containers' events only. */
  | { kind: 'events' }
  /** `POST /containers/prune`: limited to the caller's containers. */
  | { kind: 'prune-own' }
  /** `GET /system/df`: the containers part of the answer is cut to the caller's. */
  | { kind: 'system-df' }
  | { kind: 'create' }
  /** `/containers/{ref}/{action}`: the container must be the caller's. */
  | { kind: 'container'; ref: string; action: string; change: boolean }
  /** `/exec/{id}/{action}`: the exec's container must be the caller's. */
  | { kind: 'exec'; id: string; action: string; change: boolean }
  /** `POST /networks/{id}/connect|disconnect`: the body's Container must be the caller's. */
  | { kind: 'network-member' }
  /** `POST /commit?container=`. */
  | { kind: 'commit' }
  /** `POST /volumes/create`: labelled as the caller's; driver options that bind host paths are refused. */
  | { kind: 'volume-create' }
  /** `DELETE /volumes/{name}`: the caller's own volumes only. */
  | { kind: 'volume-remove'; name: string }
  /** `POST /build`: labelled as the caller's; `networkmode=host` is refused. */
  | { kind: 'build' }
  /** `DELETE /images/{name}`: only the caller's image; an unowned one is for admins. */
  | { kind: 'image-remove'; name: string }
  /** `POST /images/{name}/tag`: an existing tag may be moved only off an image of the caller's. */
  | { kind: 'image-tag'; name: string }
  /** `POST /images/create`: a pull is allowed; an import is labelled as the caller's and its tag checked as a tag is. */
  | { kind: 'image-create' }
  | { kind: 'admin-only'; why: string }
  | { kind: 'image-load' }
  | { kind: 'unknown' };

export interface RoutedRequest {
  /** The path as the engine routes it, without `/v1.xx` and without the query. */
  apiPath: string;
  query: URLSearchParams;
  route: Route;
}

const SWARM = 'swarm services, nodes, secrets and configs start containers outside ds01';

/** Container actions that only read (everything else, any method but GET/HEAD, changes the container). */
const READ_ACTIONS = new Set(['json', 'logs', 'top', 'changes', 'export', 'stats', 'wait']);

/**
 * A request target the rules and the engine read the same way: one leading
 * slash, no dot segments, no empty segments, no backslash and no encoded
 * slash, backslash or dot. Node's URL parser and the engine's router differ
 * on each of these (an encoded slash decodes into a path separator only on
 * the engine's side), so such a path could be checked as one endpoint and
 * served as another. No Docker client sends them.
 */
export function isCanonicalTarget(url: string): boolean {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  if (!pathname.startsWith('/') || pathname.startsWith('//')) return false;
  if (/\\|%2f|%5c|%2e/i.test(pathname)) return false;
  return !pathname
    .slice(1)
    .split('/')
    .some((seg, i, all) => seg === '.' || seg === '..' || (seg === '' && i < all.length - 1));
}

/** `/v1.47/containers/json` → `/containers/json`; the prefix stays in what is forwarded. */
export function stripVersion(pathname: string): string {
  const m = /^\/v\d+(?:\.\d+)?(\/.*)?$/.exec(pathname);
  return m ? (m[1] ?? '/') : pathname;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function routeRequest(method: string, url: string): RoutedRequest {
  const parsed = new URL(url, 'http://docker');
  const apiPath = stripVersion(parsed.pathname).replace(/\/+$/, '') || '/';
  const query = parsed.searchParams;
  const seg = apiPath.split('/').slice(1).map(decodeSegment);
  const m = method.toUpperCase();
  const read = m === 'GET' || m === 'HEAD';
  const route = ((): Route => {
    switch (seg[0]) {
      case '_ping':
      case 'version':
      case 'info':
      case 'auth':
      case 'distribution':
      case 'session':
      case 'grpc':
        return { kind: 'open' };
      case 'images':
        // A prune (with all=true, every unused image) removes everyone's. Image names contain slashes: the engine's
        // routes are `DELETE /images/{name:.*}` and `POST /images/{name:.*}/tag`. A load's tags are inside the
        // tarball, out of the proxy's sight: see decideRequest.
        if (seg[1] === 'prune' && seg.length === 2) return { kind: 'admin-only', why: "it removes other users' images" };
        if (m === 'POST' && seg[1] === 'load' && seg.length === 2) return { kind: 'image-load' };
        if (m === 'DELETE' && seg.length >= 2) return { kind: 'image-remove', name: seg.slice(1).join('/') };
        if (m === 'POST' && seg.length >= 3 && seg.at(-1) === 'tag') return { kind: 'image-tag', name: seg.slice(1, -1).join('/') };
        if (m === 'POST' && seg[1] === 'create' && seg.length === 2) return { kind: 'image-create' };
        return { kind: 'open' };
      case 'system':
        return seg[1] === 'df' && read && seg.length === 2 ? { kind: 'system-df' } : { kind: 'unknown' };
      case 'events':
        return seg.length === 1 ? { kind: 'events' } : { kind: 'unknown' };
      case 'build':
        if (seg.length === 1) return { kind: 'build' };
        if (seg[1] === 'prune') return { kind: 'admin-only', why: "the build cache is shared: it removes other users' cache" };
        return seg[1] === 'cancel' ? { kind: 'open' } : { kind: 'unknown' };
      case 'commit':
        return { kind: 'commit' };
      case 'containers': {
        if (seg.length === 2 && seg[1] === 'json') return { kind: 'list' };
        if (seg.length === 2 && seg[1] === 'create') return { kind: 'create' };
        if (seg.length === 2 && seg[1] === 'prune') return { kind: 'prune-own' };
        if (seg.length < 2 || !seg[1]) return { kind: 'unknown' };
        const action = seg.slice(2).join('/');
        if (action === 'checkpoints' || action.startsWith('checkpoints/'))
          return { kind: 'admin-only', why: 'checkpoints restore container state outside ds01' };
        // cp (archive) and attach count as changes even as GET, as in the wrapper.
        const change = action === 'archive' || action.startsWith('attach') || !(read || READ_ACTIONS.has(action));
        return { kind: 'container', ref: seg[1], action, change };
      }
      case 'exec':
        if (seg.length < 3 || !seg[1]) return { kind: 'unknown' };
        return { kind: 'exec', id: seg[1], action: seg.slice(2).join('/'), change: !read };
      case 'volumes':
        if (seg.length === 1) return read ? { kind: 'open' } : { kind: 'unknown' };
        if (seg[1] === 'create') return { kind: 'volume-create' };
        if (seg[1] === 'prune') return { kind: 'admin-only', why: "it removes other users' volumes" };
        if (seg.length === 2 && m === 'DELETE') return { kind: 'volume-remove', name: seg[1]! };
        return seg.length === 2 && read ? { kind: 'open' } : { kind: 'admin-only', why: 'cluster volumes' };
      case 'networks':
        if (seg.length === 1 || seg[1] === 'create') return { kind: 'open' };
        if (seg[1] === 'prune') return { kind: 'admin-only', why: "it removes other users' networks" };
        if (seg.length === 3 && (seg[2] === 'connect' || seg[2] === 'disconnect')) return { kind: 'network-member' };
        return seg.length === 2 ? { kind: 'open' } : { kind: 'unknown' };
      case 'swarm':
      case 'nodes':
      case 'services':
      case 'tasks':
      case 'secrets':
      case 'configs':
        return { kind: 'admin-only', why: SWARM };
      case 'plugins':
        return { kind: 'admin-only', why: 'plugins run with privileges granted to the Docker daemon' };
      default:
        return { kind: 'unknown' };
    }
  })();
  return { apiPath, query, route };
}

/**
 * The same request with its container reference replaced by the id the rules
 * checked (`/v1.41/containers/web/stop` → `/v1.41/containers/<id>/stop`), so
 * the engine acts on exactly that container even if a name moves meanwhile.
 */
export function pinContainer(url: string, id: string): string {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q);
  const parts = pathname.split('/');
  const at = parts.indexOf('containers');
  if (at < 0 || at + 1 >= parts.length) return url;
  parts[at + 1] = id;
  return `${parts.join('/')}${search}`;
}

/**
 * The same request with its image reference replaced by the checked id
 * (`/v1.41/images/ds01-test/busybox:latest/tag?repo=x` → `/v1.41/images/<id>/tag?repo=x`).
 */
export function pinImage(url: string, id: string): string {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const at = pathname.indexOf('/images/');
  const end = pathname.replace(/\/+$/, '').lastIndexOf('/');
  if (at < 0 || end <= at + '/images'.length) return url;
  return `${pathname.slice(0, at)}/images/${id}${pathname.slice(end)}${q < 0 ? '' : url.slice(q)}`;
}

/** Adds `label=ds01.user=<user>` to a `filters` query value (both of the engine's JSON forms), keeping the caller's filters. */
export function withOwnerFilter(query: URLSearchParams, user: string): URLSearchParams {
  const out = new URLSearchParams(query);
  const label = `ds01.user=${user}`;
  let filters: Record<string, unknown> = {};
  const given = query.get('filters');
  if (given) {
    try {
      const parsed = JSON.parse(given) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) filters = parsed as Record<string, unknown>;
    } catch {
      // The engine answers 400 to filters it cannot read; so does it here, with ours added.
      filters = {};
    }
  }
  const current = filters.label;
  if (Array.isArray(current)) filters.label = [...current, label];
  else if (current && typeof current === 'object') filters.label = { ...(current as Record<string, unknown>), [label]: true };
  else filters.label = [label];
  out.set('filters', JSON.stringify(filters));
  return out;
}
