import { INHERITABLE_PRIVILEGED_LABELS, LABEL_PREFIX, LABELS } from '@ds01/events-core/labels';
import { checkTarget } from '../check-ownership.js';
import { bindPolicyFor } from '../context.js';
import { type BindPolicy, bindsHostPath, hostPathProblem } from '../create/bind-mounts.js';
import { containerLimitsOf } from '../create/limits.js';
import { Denial } from '../deny.js';
import { ownedContainers } from '../docker-api.js';
import { checkAggregateMemory } from '../rules/aggregate-memory.js';
import { bindSources, checkRestartWithBinds, volumesFromSources } from '../rules/bind-remount.js';
import {
  detectType,
  GPU_ENV_NAMES,
  GPU_RUNTIME,
  gpuContainerName,
  HOST_NS_FIELDS,
  JOIN_FIELDS,
  UNSAFE_SECURITY_OPTS,
} from '../rules/create-policy.js';
import { refuseHostNetwork } from '../rules/host-network.js';
import { checkMaxContainers } from '../rules/max-containers.js';
import { checkNoDs01Labels } from '../rules/owner-label.js';
import { checkVolumesForCreate, createOwnedVolume } from '../volume-ownership.js';
import { applyApiLimits, type LimitFields } from './api-limits.js';
import { namedVolumesOfHostConfig } from './api-volumes.js';
import { type Json, obj } from './request-parts.js';
import type { UserSession } from './user-session.js';

interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[] | null;
  Capabilities?: string[][] | null;
}

/** What a create request becomes before the GPUs are allocated. */
export interface ApiCreatePlan {
  /** The request body with ds01's labels, slice and limits (GPUs are set after allocation). */
  body: Json;
  /** The `name` query parameter: the caller's, or generated for a GPU container. */
  name?: string;
  nameGenerated: boolean;
  gpuCount: number;
  /** The GPU request as sent, for the event. */
  gpuRequest: string;
  containerType: string;
  image: string;
  owner: string;
  createdAt: string;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function isGpuDeviceRequest(r: DeviceRequest): boolean {
  if (r.Driver && /nvidia/i.test(r.Driver)) return true;
  return (r.Capabilities ?? []).some((set) => Array.isArray(set) && set.includes('gpu'));
}

/** GPUs a set of DeviceRequests asks for, as the wrapper counts `--gpus`: ids only count, -1 (all) is the per-container maximum. */
export function deviceRequestCount(requests: DeviceRequest[], perContainerMax: number | null): number {
  let total = 0;
  for (const r of requests) {
    const ids = (r.DeviceIDs ?? []).filter(Boolean);
    if (ids.length > 0) total += ids.length;
    else if (r.Count === -1) total += perContainerMax && perContainerMax > 0 ? perContainerMax : 1;
    else total += r.Count && r.Count > 0 ? r.Count : 1;
  }
  return total;
}

function describeGpuRequest(requests: DeviceRequest[]): string {
  return requests
    .map((r) => ((r.DeviceIDs ?? []).length > 0 ? `device=${r.DeviceIDs!.join(',')}` : r.Count === -1 ? 'all' : String(r.Count ?? 1)))
    .join(' ');
}

/**
 * The wrapper's run/create rules on `POST /containers/create`. Throws a
 * Denial for anything refused; returns the body with ds01's labels, the
 * user's slice and limits forced. Non-admins only: admins pass untouched.
 *
 * ds01.* labels: the wrapper, when it runs in front of the proxy, sends its
 * own (the same values the proxy sets). A ds01.* label is accepted only when
 * it says what the proxy would write anyway; any other is refused.
 */
export async function checkCreate(session: UserSession, body: Json, query: URLSearchParams): Promise<ApiCreatePlan> {
  const { ctx, docker } = session;
  const { policy } = ctx;
  const owner = session.user;
  const denies = (rule: string) => policy.deniedFlags.has(rule);
  const config = await ctx.fullConfig();
  const { resolveUserLimits } = await import('@ds01/events-core/config');
  const resolved = resolveUserLimits(config, owner);
  const slice = resolved.slice;

  const host = obj(body.HostConfig);
  body.HostConfig = host;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(body.Labels))) labels[k] = String(v);
  const userKeys = Object.keys(labels).filter((k) => !k.startsWith(LABEL_PREFIX));
  const containerType = detectType(userKeys);
  const requests = (Array.isArray(host.DeviceRequests) ? host.DeviceRequests : []) as DeviceRequest[];
  const gpuRequests = requests.filter(isGpuDeviceRequest);
  const wantsGpu = gpuRequests.length > 0;

  // ds01.* labels: only the values ds01 writes itself (the wrapper's), else refused.
  const expected: Record<string, (v: string) => boolean> = {
    [LABELS.user]: (v) => v === owner,
    [LABELS.managed]: (v) => v === 'true',
    [LABELS.containerType]: (v) => v === containerType,
    [LABELS.interface]: (v) => v === containerType,
    [LABELS.slice]: (v) => v === slice,
    [LABELS.createdAt]: (v) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v) && Math.abs(Date.parse(v) - Date.now()) < 15 * 60_000,
    // The wrapper's allocation; replaced by the proxy's (the same reservation, by name) below.
    [LABELS.gpuUuids]: (v) => wantsGpu || v === '',
    [LABELS.gpuUuid]: (v) => wantsGpu || v === '',
    [LABELS.gpuSlots]: (v) => wantsGpu || v === '',
    // The wrapper blanks what the image might otherwise pass on, as the proxy does below.
    [LABELS.protected]: (v) => v === '',
    [LABELS.monitoring]: (v) => v === '',
  };
  for (const [k, v] of Object.entries(labels)) {
    if (!k.startsWith(LABEL_PREFIX)) continue;
    const ok = expected[k];
    if (!ok?.(v))
      throw new Denial('ds01-label', `the label ${k}=${v} is set by ds01 only`, 'Remove it; ds01 labels your container itself.');
  }

  const env = strings((body as Json).Env);
  if (denies('gpu-env')) {
    const gpuEnv = env.find((e) => {
      const key = e.split('=')[0]!;
      // The wrapper's own guard for containers without GPUs.
      if (e === 'NVIDIA_VISIBLE_DEVICES=void' && !wantsGpu) return false;
      return GPU_ENV_NAMES.includes(key);
    });
    if (gpuEnv)
      throw new Denial(
        'gpu-env',
        `choosing GPUs with ${gpuEnv.split('=')[0]} is not allowed`,
        'Ask for GPUs with --gpus N; ds01 picks free ones.',
      );
  }
  if (denies('privileged') && host.Privileged === true)
    throw new Denial('privileged', 'Privileged gives the container full control of the host', 'Run without --privileged.');
  if (denies('host-namespace')) {
    const field = HOST_NS_FIELDS.find((f) => typeof host[f] === 'string' && (host[f] as string).toLowerCase() === 'host');
    if (field) throw new Denial('host-namespace', `${field}=host shares the host's namespace`, `Run without ${field} host.`);
    if (typeof host.Cgroup === 'string' && host.Cgroup !== '')
      throw new Denial('host-namespace', `Cgroup=${host.Cgroup} joins another cgroup`, 'Leave Cgroup out.');
    const endpoints = Object.keys(obj(obj(body.NetworkingConfig).EndpointsConfig));
    await refuseHostNetwork(docker, [typeof host.NetworkMode === 'string' ? host.NetworkMode : '', ...endpoints], 'the network');
  }
  if (denies('cap-add')) {
    const cap = strings(host.CapAdd)[0];
    if (cap !== undefined) throw new Denial('cap-add', `CapAdd ${cap} adds kernel capabilities`, 'Run without --cap-add.');
  }
  if (denies('device')) {
    const devices = Array.isArray(host.Devices) ? host.Devices : [];
    const rules = strings(host.DeviceCgroupRules);
    if (devices.length > 0 || rules.length > 0) {
      const first = obj(devices[0]).PathOnHost ?? rules[0];
      throw new Denial(
        'device',
        `Devices ${String(first)} passes host devices in (NVIDIA devices included)`,
        'Ask for GPUs with --gpus N.',
      );
    }
    const other = requests.find((r) => !isGpuDeviceRequest(r));
    if (other)
      throw new Denial('device', `DeviceRequests for driver ${other.Driver ?? '?'} pass host devices in`, 'Ask for GPUs with --gpus N.');
  }
  if (denies('runtime') && typeof host.Runtime === 'string' && GPU_RUNTIME.test(host.Runtime))
    throw new Denial('runtime', `Runtime ${host.Runtime} gives GPUs without allocation`, 'Ask for GPUs with --gpus N.');
  if (denies('security-opt')) {
    const so = strings(host.SecurityOpt).find((s) => UNSAFE_SECURITY_OPTS.test(s));
    if (so) throw new Denial('security-opt', `SecurityOpt ${so} turns off a protection`, 'Run without it.');
    // What `--security-opt systempaths=unconfined` becomes on the wire: the /proc and /sys masks replaced.
    for (const f of ['MaskedPaths', 'ReadonlyPaths'])
      if (Array.isArray(host[f])) throw new Denial('security-opt', `${f} replaces the masks on /proc and /sys`, 'Leave it out.');
  }
  if (denies('bind-mount')) checkMounts(host, bindPolicyFor(policy, owner));

  // Joining another container's namespaces, volumes or links.
  // Each reference is pinned to the id that was checked, so the engine joins exactly that container.
  const pins = new Map<string, string>();
  const check = async (field: string, ref: string) => {
    const found = await checkTarget(ctx, docker, ref, { operation: `create ${field}`, change: true });
    if (found) pins.set(ref, found.facts.id);
  };
  const joins: Promise<void>[] = [];
  for (const f of JOIN_FIELDS) {
    const v = host[f];
    if (typeof v === 'string' && v.startsWith('container:')) joins.push(check(f, v.slice('container:'.length)));
  }
  for (const v of strings(host.VolumesFrom)) joins.push(check('VolumesFrom', v.split(':')[0]!));
  for (const v of strings(host.Links)) joins.push(check('Links', v.split(':')[0]!.replace(/^\//, '')));
  // Named volumes: another user's is refused; a missing one is created as the caller's once every check has passed.
  const volumes = namedVolumesOfHostConfig(host);
  for (const v of volumes) checkNoDs01Labels(v.labels, owner, 'volume');
  const [missingVolumes] = await Promise.all([checkVolumesForCreate(ctx, docker, volumes, 'create volume'), ...joins]);
  for (const f of JOIN_FIELDS) {
    const v = host[f];
    if (typeof v !== 'string' || !v.startsWith('container:')) continue;
    const ref = v.slice('container:'.length);
    host[f] = `container:${pins.get(ref) ?? ref}`;
  }
  if (Array.isArray(host.VolumesFrom))
    host.VolumesFrom = strings(host.VolumesFrom).map((v) => {
      const [ref, ...mode] = v.split(':');
      return [pins.get(ref!) ?? ref, ...mode].join(':');
    });

  const parent = typeof host.CgroupParent === 'string' ? host.CgroupParent : '';
  if (parent !== '' && parent !== slice)
    throw new Denial('cgroup-parent', `CgroupParent ${parent} is not your slice (${slice})`, 'Leave --cgroup-parent out.');
  if (slice) host.CgroupParent = slice;

  applyApiLimits(host as LimitFields, containerLimitsOf(resolved.values), true);
  const values = resolved.values;
  const owned = ownedContainers(docker, owner);
  await checkMaxContainers(owned, values);

  await checkAggregateMemory(docker, owned, resolved.aggregate, typeof host.Memory === 'number' ? host.Memory : null);
  // The one change made before the engine sees the create: it would make these unlabelled, owned by nobody.
  for (const v of missingVolumes) await createOwnedVolume(ctx, docker, v, owner, 'create volume');

  const perContainer = typeof values.max_gpu_slots_per_container === 'number' ? values.max_gpu_slots_per_container : null;
  const gpuCount = wantsGpu ? deviceRequestCount(gpuRequests, perContainer) : 0;
  let name = query.get('name') || undefined;
  let nameGenerated = false;
  if (gpuCount > 0 && !name) {
    name = gpuContainerName(owner);
    nameGenerated = true;
  }

  const createdAt = expected[LABELS.createdAt]!(labels[LABELS.createdAt] ?? '') ? labels[LABELS.createdAt]! : new Date().toISOString();
  // Set empty rather than left out: the image's own ds01 labels would fill the gap (GPU labels are set after the allocation).
  for (const k of INHERITABLE_PRIVILEGED_LABELS) labels[k] = '';
  labels[LABELS.user] = owner;
  labels[LABELS.managed] = 'true';
  labels[LABELS.containerType] = containerType;
  labels[LABELS.interface] = containerType;
  labels[LABELS.createdAt] = createdAt;
  if (slice) labels[LABELS.slice] = slice;
  body.Labels = labels;
  // Images built on CUDA set NVIDIA_VISIBLE_DEVICES=all; on a daemon whose default runtime is nvidia that alone would expose every GPU.
  if (!wantsGpu && !env.includes('NVIDIA_VISIBLE_DEVICES=void')) body.Env = [...env, 'NVIDIA_VISIBLE_DEVICES=void'];

  const plan: ApiCreatePlan = {
    body,
    nameGenerated,
    gpuCount,
    gpuRequest: describeGpuRequest(gpuRequests),
    containerType,
    image: typeof body.Image === 'string' ? body.Image : '',
    owner,
    createdAt,
  };
  if (name) plan.name = name;
  return plan;
}

function checkMounts(host: Json, bindPolicy: BindPolicy): void {
  for (const raw of Array.isArray(host.Mounts) ? host.Mounts : []) {
    const opts = obj(obj(obj(obj(raw).VolumeOptions).DriverConfig).Options);
    if (bindsHostPath(Object.entries(opts)))
      throw new Denial('bind-mount', 'Mounts volume options bind a host path', 'Use a plain named volume.');
  }
  const binds = bindSources(host);
  for (const b of binds) {
    const problem = hostPathProblem(b.source, bindPolicy);
    if (problem) throw new Denial('bind-mount', `${b.what} mounts ${b.source}, which ${problem}`, 'Mount a directory of your own instead.');
  }
  checkRestartWithBinds(obj(host.RestartPolicy).Name as string | undefined, [...binds, ...volumesFromSources(host)]);
}
