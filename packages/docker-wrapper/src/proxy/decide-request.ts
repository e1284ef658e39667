import { LABELS, readGpuUse } from '@ds01/events-core/labels';
import { checkTarget } from '../check-ownership.js';
import { bindPolicyFor } from '../context.js';
import { containerLimitsOf } from '../create/limits.js';
import { Denial } from '../deny.js';
import { ownedContainers } from '../docker-api.js';
import { checkGpuStart } from '../main.js';
import { checkStartMemory } from '../rules/aggregate-memory.js';
import { checkBindsAtMount, checkRestartWithBinds, mountedBinds } from '../rules/bind-remount.js';
import { refuseHostNetwork } from '../rules/host-network.js';
import { applyApiLimits, type LimitFields } from './api-limits.js';
import { checkCreate } from './check-create.js';
import { allocateForCreate, applyAllocation, settleAllocation } from './create-gpus.js';
import { decideBuild, decideCommit, decideImageCreate, decideImageRemove, decideImageTag } from './decide-image.js';
import { decideVolumeCreate, decideVolumeRemove } from './decide-volume.js';
import { logCreated } from './log-create.js';
import { proxyBlock } from './proxy-settings.js';
import { needBody, obj, parseJsonBody, type RequestInfo, sendsForm, withQuery } from './request-parts.js';
import { isCanonicalTarget, pinContainer, type RoutedRequest, routeRequest, withOwnerFilter } from './route-request.js';
import type { UserSession } from './user-session.js';

/** What to do with one request. */
export type Decision =
  | {
      action: 'forward';
      /** Path and query to send upstream (the version prefix kept). */
      path: string;
      body?: Buffer;
      inspectResponse?: (status: number, body: Buffer) => Promise<void>;
      /** Replaces the engine's (whole, buffered) answer before the client gets it. */
      rewriteResponse?: (status: number, body: Buffer) => Buffer;
    }
  | { action: 'refuse'; denial: Denial };

export type { RequestInfo };

/** The operation as events name it: method and path without the version prefix. */
export const operationOf = (method: string, r: RoutedRequest) => `${method.toUpperCase()} ${r.apiPath}`;

/**
 * The wrapper's rules on one Engine API request from `session.user`. Admins
 * pass untouched (an existing unowned container they act on is logged, as in
 * the wrapper; a container they create without an owner is theirs); the
 * site's `enforcement_mode: disabled` passes everyone.
 */
export async function decideRequest(session: UserSession, info: RequestInfo): Promise<Decision> {
  const { ctx, docker, user } = session;
  if (!isCanonicalTarget(info.url))
    throw new Denial(
      'bad-request',
      `the request path ${info.url.split('?')[0]} is not in plain form`,
      'Send the path without encoded slashes or dot segments.',
    );
  const routed = routeRequest(info.method, info.url);
  const { route, query } = routed;
  const operation = operationOf(info.method, routed);
  const pass: Decision = { action: 'forward', path: info.url };
  const admin = ctx.identity.isAdmin;

  if (ctx.configError && !admin)
    throw new Denial('config', 'the site configuration cannot be read, so docker is unavailable', 'Tell an administrator.');
  if (ctx.policy.mode === 'disabled') return pass;

  if (admin) {
    if (route.kind === 'container') await checkTarget(ctx, docker, route.ref, { operation, change: route.change });
    if (route.kind === 'create') return ownAdminCreate(info, user);
    return pass;
  }
  const monitoring = ctx.policy.mode === 'monitoring';
  if (sendsForm(info.headers))
    throw new Denial(
      'bad-request',
      'the request carries parameters in a form body, which the engine reads before the query ds01 checks',
      'Send the parameters in the query string.',
    );

  switch (route.kind) {
    case 'open':
      return pass;
    case 'list':
    case 'events':
      return monitoring ? pass : { action: 'forward', path: withQuery(info.url, withOwnerFilter(query, user)) };
    case 'prune-own':
      return { action: 'forward', path: withQuery(info.url, withOwnerFilter(query, user)) };
    case 'system-df':
      if (monitoring) return pass;
      return {
        ...pass,
        rewriteResponse: (status, body) => {
          if (status !== 200) return body;
          try {
            const df = JSON.parse(body.toString('utf8')) as { Containers?: { Labels?: Record<string, string> | null }[] | null };
            if (Array.isArray(df.Containers)) df.Containers = df.Containers.filter((c) => c.Labels?.[LABELS.user] === user);
            return Buffer.from(JSON.stringify(df));
          } catch {
            return body;
          }
        },
      };
    case 'admin-only':
      throw new Denial('admin-only', `${operation} is for administrators: ${route.why}`, 'Ask an administrator.');
    case 'image-load':
      // The tags are inside the tarball: a load could point a shared tag (ubuntu:22.04) or another user's at the
      // loaded image, and everyone's next `docker run` of it would run that image.
      if (proxyBlock(await ctx.fullConfig()).allow_image_load === true) return pass;
      throw new Denial(
        'image-load',
        `${operation}: a load can point any tag, a shared one such as ubuntu:22.04 or another user's, at the loaded image, so it is for administrators`,
        'Ask an administrator to load it, or push the image to a registry and pull it.',
      );
    case 'unknown':
      throw new Denial('unknown-endpoint', `${operation} is not an endpoint ds01 can check`, 'Ask an administrator if you need it.');
    case 'build':
      return decideBuild(session, info, query, operation);
    case 'commit':
      return decideCommit(session, info, query, operation);
    case 'image-remove':
      return decideImageRemove(session, info, route.name, operation);
    case 'image-tag':
      return decideImageTag(session, info, route.name, query, operation);
    case 'image-create':
      return decideImageCreate(session, info, query, operation);
    case 'volume-create':
      return decideVolumeCreate(session, info);
    case 'volume-remove':
      return decideVolumeRemove(session, info, route.name, operation);
    case 'network-member': {
      const raw = await needBody(info);
      const body = parseJsonBody(raw);
      if (ctx.policy.deniedFlags.has('host-namespace'))
        await refuseHostNetwork(docker, [decodeURIComponent(routed.apiPath.split('/')[2] ?? '')], 'the network');
      if (typeof body.Container === 'string' && body.Container) {
        const found = await checkTarget(ctx, docker, body.Container, { operation, change: true });
        if (found) {
          body.Container = found.facts.id;
          return { ...pass, body: Buffer.from(JSON.stringify(body)) };
        }
      }
      return { ...pass, body: raw };
    }
    case 'exec': {
      const r = await docker.request<{ ContainerID?: string }>('GET', `/exec/${encodeURIComponent(route.id)}/json`);
      // No such exec: the engine answers for itself.
      if (r.status === 200 && r.json?.ContainerID) await checkTarget(ctx, docker, r.json.ContainerID, { operation, change: route.change });
      return pass;
    }
    case 'container':
      return decideContainer(session, info, route, operation);
    case 'create':
      return decideCreate(session, info, query, operation);
  }
}

/**
 * An administrator's create passes as it is, but for the owner: a container
 * made without `ds01.user` would take its image's, so one an admin starts
 * from alice's image would be alice's to exec into. It is the admin's, as
 * the wrapper labels it; a `ds01.user` the admin gives is kept.
 */
async function ownAdminCreate(info: RequestInfo, user: string): Promise<Decision> {
  const raw = await needBody(info);
  const body = parseJsonBody(raw);
  const labels = obj(body.Labels);
  if (typeof labels[LABELS.user] === 'string') return { action: 'forward', path: info.url, body: raw };
  body.Labels = { ...labels, [LABELS.user]: user };
  return { action: 'forward', path: info.url, body: Buffer.from(JSON.stringify(body)) };
}

async function decideContainer(
  session: UserSession,
  info: RequestInfo,
  route: Extract<RoutedRequest['route'], { kind: 'container' }>,
  operation: string,
): Promise<Decision> {
  const { ctx, docker } = session;
  const found = await checkTarget(ctx, docker, route.ref, { operation, change: route.change });
  if (!found) return { action: 'forward', path: info.url };
  // The engine acts on exactly the container that was checked, even if a name moves meanwhile.
  const pass: Decision = { action: 'forward', path: pinContainer(info.url, found.facts.id) };
  const method = info.method.toUpperCase();
  // The engine mounts the binds again, following links, at each start and for docker cp (archive).
  const mounts = route.action === 'archive' || (method === 'POST' && (route.action === 'start' || route.action === 'restart'));
  if (mounts && ctx.policy.deniedFlags.has('bind-mount')) checkBindsAtMount([found.inspect], bindPolicyFor(ctx.policy, session.user));
  if (method === 'POST' && route.action === 'exec') {
    const raw = await needBody(info);
    const body = parseJsonBody(raw);
    if (body.Privileged === true && ctx.policy.deniedFlags.has('privileged'))
      throw new Denial('privileged', 'exec --privileged gives the process full control of the host', 'Run exec without --privileged.');
    return { ...pass, body: raw };
  }
  if (method === 'POST' && route.action === 'update') {
    const raw = await needBody(info);
    const body = parseJsonBody(raw);
    const { resolveUserLimits } = await import('@ds01/events-core/config');
    applyApiLimits(body as LimitFields, containerLimitsOf(resolveUserLimits(await ctx.fullConfig(), session.user).values), false);
    if (ctx.policy.deniedFlags.has('bind-mount'))
      checkRestartWithBinds(obj(body.RestartPolicy).Name as string | undefined, mountedBinds(found.inspect), found.facts.name);
    return { ...pass, body: raw };
  }
  if (method === 'POST' && (route.action === 'start' || route.action === 'restart')) {
    let out = pass;
    if (route.action === 'start' && info.readBody) {
      // API < 1.24 let start carry a HostConfig; the engine no longer reads it, and neither may anyone.
      const raw = await info.readBody();
      const text = raw.toString('utf8').trim();
      if (text !== '' && text !== '{}' && text !== 'null')
        throw new Denial('bad-request', 'start with a body (a HostConfig) is not allowed', 'Send start without a body.');
      // The body was read here: it goes up as it came (some clients send `{}`).
      out = { ...pass, body: raw };
    }
    // A restart of a stopped container starts it too (the wrapper checks both verbs alike).
    if (found.inspect.State?.Running !== true) {
      const { resolveUserLimits } = await import('@ds01/events-core/config');
      const { aggregate } = resolveUserLimits(await ctx.fullConfig(), session.user);
      await checkStartMemory(session.docker, ownedContainers(session.docker, session.user), aggregate, [found.inspect]);
    }
    const use = readGpuUse(found.facts);
    if (use.hasGpu && found.facts.labels[LABELS.managed] === 'true') await checkGpuStart(ctx, [found]);
    return out;
  }
  return pass;
}

async function decideCreate(session: UserSession, info: RequestInfo, query: URLSearchParams, operation: string): Promise<Decision> {
  const raw = await needBody(info);
  const plan = await checkCreate(session, parseJsonBody(raw), query);
  const q = new URLSearchParams(query);
  if (plan.name) q.set('name', plan.name);
  let alloc: Awaited<ReturnType<typeof allocateForCreate>> | undefined;
  if (plan.gpuCount > 0) {
    // A name already taken makes the engine answer 409; allocating would hand back (then release) that container's GPUs.
    const existing = plan.name ? await session.docker.inspectContainer(plan.name) : null;
    if (existing && existing.Name === `/${plan.name}`)
      return { action: 'forward', path: withQuery(info.url, q), body: Buffer.from(JSON.stringify(plan.body)) };
    alloc = await allocateForCreate(session, plan);
    applyAllocation(plan, alloc);
  }
  return {
    action: 'forward',
    path: withQuery(info.url, q),
    body: Buffer.from(JSON.stringify(plan.body)),
    inspectResponse: async (status, body) => {
      let id: string | null = null;
      if (status === 201) {
        try {
          id = (JSON.parse(body.toString('utf8')) as { Id?: string }).Id ?? null;
        } catch {
          id = null;
        }
      }
      const problem = alloc ? await settleAllocation(session, plan, alloc, id) : null;
      if (problem) process.stderr.write(`ds01-docker-proxy: ${operation} for ${session.user}: GPU reservation: ${problem}\n`);
      if (id) logCreated(session, plan, id, alloc?.gpus ?? []);
    },
  };
}
