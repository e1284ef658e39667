import { bindsHostPath } from '../create/bind-mounts.js';
import { Denial } from '../deny.js';
import { labelsOfJson, withOwnerLabel } from '../rules/owner-label.js';
import { checkVolumeRemoval } from '../volume-ownership.js';
import type { Decision } from './decide-request.js';
import { needBody, parseJsonBody, type RequestInfo } from './request-parts.js';
import type { UserSession } from './user-session.js';

/** `POST /volumes/create`: labelled as the caller's; driver options that bind a host path are refused. */
export async function decideVolumeCreate(session: UserSession, info: RequestInfo): Promise<Decision> {
  const body = parseJsonBody(await needBody(info));
  const opts = (body.DriverOpts ?? {}) as Record<string, unknown>;
  if (bindsHostPath(Object.entries(opts)))
    throw new Denial(
      'bind-mount',
      'volume options that bind a host path are for administrators',
      'Create a plain volume: docker volume create NAME.',
    );
  body.Labels = withOwnerLabel(labelsOfJson(body.Labels), session.user, 'volume');
  return { action: 'forward', path: info.url, body: Buffer.from(JSON.stringify(body)) };
}

/** `DELETE /volumes/{name}`: your own volumes; one without an owner only by an administrator. */
export async function decideVolumeRemove(session: UserSession, info: RequestInfo, name: string, operation: string): Promise<Decision> {
  await checkVolumeRemoval(session.ctx, session.docker, name, operation);
  return { action: 'forward', path: info.url };
}
