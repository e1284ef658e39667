import { LABELS } from '@ds01/events-core/labels';
import { enforceOwnership, ownerRefusal, sameUser } from './check-ownership.js';
import type { WrapperContext } from './context.js';
import { Denial } from './deny.js';
import type { DockerClient } from './docker-api.js';

/**
 * Named volumes belong to whoever `ds01.user` names (the wrapper and the proxy
 * label every volume a user creates). A volume without that label is legacy or
 * shared data (a site switching over from DS01 has only such volumes): anyone
 * may mount it, only administrators remove it.
 */

/**
 * A volume name the engine can look up. A source with a slash is neither a
 * path docker binds nor a name any volume can have (the engine's router
 * cannot address it): docker refuses it itself.
 */
export const isVolumeName = (name: string) => name !== '' && !name.includes('/');

/** A named volume a container asks for, with what docker would create it with if it is missing. */
export interface VolumeUse {
  name: string;
  /** The flag or field that names it, for messages. */
  via: string;
  driver?: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

interface VolumeInspect {
  Name?: string;
  Labels?: Record<string, string> | null;
  message?: string;
}

/** The volume's owner label ('' when it has none), or null when there is no such volume. */
export async function volumeOwner(docker: DockerClient, name: string): Promise<string | null> {
  const r = await docker.request<VolumeInspect>('GET', `/volumes/${encodeURIComponent(name)}`);
  // 404: no such volume; 400: not a valid name. Docker reports either itself.
  if (r.status === 404 || r.status === 400) return null;
  if (r.status !== 200) throw new Error(`inspect volume ${name}: ${r.status} ${r.json?.message ?? ''}`);
  return r.json?.Labels?.[LABELS.user] ?? '';
}

const notOwner = (name: string, owner: string, hint: string) => new Denial('not-owner', `volume '${name}' belongs to ${owner}`, hint, name);

const USE_HINT = 'Mount a volume of your own (`docker volume ls`), or a new name: ds01 creates it for you.';

/** A volume a container mounts: another user's is refused. Returns whether it exists. */
export async function checkVolumeUse(ctx: WrapperContext, docker: DockerClient, use: VolumeUse, operation: string): Promise<boolean> {
  const owner = await volumeOwner(docker, use.name);
  if (owner === null) return false;
  if (owner !== '' && !(await sameUser(owner, ctx.identity.user))) enforceOwnership(ctx, notOwner(use.name, owner, USE_HINT), operation);
  return true;
}

/** `volume rm`: only your own volumes; a volume with no owner only by an administrator. A missing one is left to docker. */
export async function checkVolumeRemoval(ctx: WrapperContext, docker: DockerClient, name: string, operation: string): Promise<void> {
  if (ctx.identity.isAdmin) return;
  const owner = await volumeOwner(docker, name);
  if (owner === null) return;
  const refusal = await ownerRefusal(owner, ctx.identity.user, {
    unowned: () =>
      new Denial(
        'unowned-volume',
        `volume '${name}' has no owner, and only administrators remove volumes without an owner`,
        'Ask an administrator to remove it.',
        name,
      ),
    notOwner: (o) => notOwner(name, o, 'You can only remove your own volumes: see `docker volume ls`.'),
  });
  if (refusal) enforceOwnership(ctx, refusal, operation);
}

/**
 * Creates a volume a container is about to mount, owned by `owner` from the
 * start (docker would create it unlabelled). The engine answers a create of
 * a name that appeared meanwhile with that volume, unchanged: its owner is
 * checked again.
 */
export async function createOwnedVolume(
  ctx: WrapperContext,
  docker: DockerClient,
  use: VolumeUse,
  owner: string,
  operation: string,
): Promise<void> {
  const body: Record<string, unknown> = { Name: use.name, Labels: { ...use.labels, [LABELS.user]: owner } };
  if (use.driver) body.Driver = use.driver;
  if (Object.keys(use.driverOpts).length > 0) body.DriverOpts = use.driverOpts;
  const r = await docker.request<VolumeInspect>('POST', '/volumes/create', body);
  if (r.status !== 201 && r.status !== 200)
    throw new Denial(
      'volume',
      `the volume '${use.name}' (${use.via}) could not be created: ${r.json?.message ?? `the engine answered ${r.status}`}`,
      'Check its name and driver, or create it first: docker volume create NAME.',
      use.name,
    );
  const got = r.json?.Labels?.[LABELS.user] ?? '';
  if (got !== '' && !(await sameUser(got, owner))) enforceOwnership(ctx, notOwner(use.name, got, USE_HINT), operation);
}

/** Checks every named volume a container mounts (all at once); returns those that do not exist yet. */
export async function checkVolumesForCreate(
  ctx: WrapperContext,
  docker: DockerClient,
  uses: readonly VolumeUse[],
  operation: string,
): Promise<VolumeUse[]> {
  const unique = [...new Map(uses.map((u) => [u.name, u])).values()];
  const exists = await Promise.all(unique.map((u) => checkVolumeUse(ctx, docker, u, operation)));
  return unique.filter((_, i) => !exists[i]);
}
