import { INHERITABLE_PRIVILEGED_LABELS, LABEL_PREFIX, LABELS } from '@ds01/events-core/labels';
import { checkTarget } from '../check-ownership.js';
import { bindPolicyFor, type WrapperContext } from '../context.js';
import { Denial } from '../deny.js';
import { type DockerClient, ownedContainers } from '../docker-api.js';
import { boolOption, optionValues, type ParsedCommand, type ParsedOption } from '../parse-args.js';
import { checkAggregateMemory } from '../rules/aggregate-memory.js';
import { type BindSource, checkRestartWithBinds, volumesFromSources } from '../rules/bind-remount.js';
import {
  detectType,
  GPU_ENV_NAMES,
  GPU_RUNTIME,
  gpuContainerName,
  HOST_NS_FLAGS,
  JOIN_FLAGS,
  UNSAFE_SECURITY_OPTS,
} from '../rules/create-policy.js';
import { refuseHostNetwork } from '../rules/host-network.js';
import { checkMaxContainers } from '../rules/max-containers.js';
import { checkNoDs01Labels } from '../rules/owner-label.js';
import { checkVolumesForCreate, createOwnedVolume } from '../volume-ownership.js';
import { type BindPolicy, bindsHostPath, hostPathProblem, optionPairs, parseMountFlag, volumeFlagSource } from './bind-mounts.js';
import { gpuCount } from './gpu-request.js';
import { applyLimits, containerLimitsOf } from './limits.js';
import { namedVolumesOfOptions } from './named-volumes.js';
import { readKvFile } from './read-kv-file.js';

/** Everything run/create will do, decided before anything is changed (but the named volumes it creates, see prepareCreate). */
export interface CreatePlan {
  owner: string;
  containerType: string;
  image: string;
  /** The --name given, or generated for a GPU container (the allocator keys reservations by name). */
  name?: string;
  nameGenerated: boolean;
  /** GPUs to allocate (0: none). */
  gpuCount: number;
  /** The request as written, for the event. */
  gpuRequest: string;
  slice: string;
  createdAt: string;
  /** Option tokens to keep, in order (user's, with files inlined and --gpus removed when we allocate). */
  userOptions: string[];
  /** Options the wrapper adds after the user's (so docker's last-one-wins keeps ours). */
  injected: string[];
  /** The image and the container's own command, untouched. */
  tail: string[];
}

export { GPU_ENV_NAMES };

const keyOf = (kv: string) => {
  const eq = kv.indexOf('=');
  return eq < 0 ? kv : kv.slice(0, eq);
};

/**
 * Inspects and rewrites a run/create command line; throws a Denial for
 * anything a rule refuses. Once every rule has passed, the named volumes the
 * container mounts that do not exist yet are created, labelled as the
 * owner's, so they are owned from the start (a later refusal, such as no
 * free GPU, leaves them behind, empty and the owner's).
 */
export async function prepareCreate(ctx: WrapperContext, parsed: ParsedCommand, docker: DockerClient, cwd: string): Promise<CreatePlan> {
  const { identity, policy } = ctx;
  const owner = identity.owner;
  // GPUs: every --gpus before the image.
  const gpuValues = optionValues(parsed.options, '--gpus');
  const givenName = optionValues(parsed.options, '--name').pop();
  // The allocator keys reservations by container name: a GPU container without --name gets one.
  const generatedName = givenName || gpuValues.length === 0 ? undefined : gpuContainerName(owner);
  const config = await ctx.fullConfig();
  const { resolveUserLimits } = await import('@ds01/events-core/config');
  const enforce = !identity.isAdmin;
  const denies = (rule: string) => enforce && policy.deniedFlags.has(rule);
  const argv = parsed.argv;
  const options = parsed.options;
  const resolved = resolveUserLimits(config, owner);
  const values = resolved.values;

  // Files are read once and inlined; their lines are checked like flags.
  const labels: string[] = [];
  const envs: string[] = [];
  const replaced = new Map<number, string[]>();
  for (const o of options) {
    if ((o.flag === '--label-file' || o.flag === '--env-file') && o.value !== undefined) {
      const lines = readKvFile(o.value, o.flag);
      const flag = o.flag === '--label-file' ? '--label' : '--env';
      replaced.set(
        o.index,
        lines.flatMap((l) => [flag, l]),
      );
      (o.flag === '--label-file' ? labels : envs).push(...lines);
    }
  }
  labels.push(...optionValues(options, '-l', '--label'));
  envs.push(...optionValues(options, '-e', '--env'));
  const labelKeys = labels.map(keyOf);

  // Admins may name GPU devices or declare a native type themselves.
  const adminType = identity.isAdmin ? labels.map((l) => /^ds01\.(container_type|interface)=(.*)$/.exec(l)?.[2]).find(Boolean) : undefined;
  const containerType = adminType ?? detectType(labelKeys);
  const perContainer = typeof values.max_gpu_slots_per_container === 'number' ? values.max_gpu_slots_per_container : null;
  let count = gpuValues.length > 0 ? gpuCount(gpuValues, perContainer) : 0;
  if (identity.isAdmin && (adminType === 'orchestration' || adminType === 'atomic' || gpuValues.some((g) => /device=/.test(g)))) count = 0;

  const nameGenerated = count > 0 && !givenName;
  const name = nameGenerated ? generatedName : givenName;

  if (enforce) {
    const own = labelKeys.find((k) => k.startsWith(LABEL_PREFIX));
    if (own) throw new Denial('ds01-label', `the label ${own} is set by ds01 only`, 'Remove it; ds01 labels your container itself.');
  }
  if (denies('gpu-env')) {
    const gpuEnv = envs.map(keyOf).find((k) => GPU_ENV_NAMES.includes(k));
    if (gpuEnv)
      throw new Denial('gpu-env', `choosing GPUs with ${gpuEnv} is not allowed`, 'Ask for GPUs with --gpus N; ds01 picks free ones.');
  }
  if (denies('privileged') && boolOption(options, '--privileged'))
    throw new Denial('privileged', '--privileged gives the container full control of the host', 'Run without --privileged.');
  if (denies('host-namespace')) {
    const host = options.find((o) => HOST_NS_FLAGS.includes(o.flag) && o.value?.toLowerCase() === 'host');
    if (host) throw new Denial('host-namespace', `${host.flag}=host shares the host's namespace`, `Run without ${host.flag} host.`);
    // The host network by its id or an id prefix is the host network too.
    await refuseHostNetwork(docker, optionValues(options, '--network', '--net'), '--network');
  }
  if (denies('cap-add')) {
    const cap = optionValues(options, '--cap-add')[0];
    if (cap !== undefined) throw new Denial('cap-add', `--cap-add ${cap} adds kernel capabilities`, 'Run without --cap-add.');
  }
  if (denies('device')) {
    const dev = options.find((o) => o.flag === '--device' || o.flag === '--device-cgroup-rule');
    if (dev)
      throw new Denial(
        'device',
        `${dev.flag} ${dev.value ?? ''} passes host devices in (NVIDIA devices included)`,
        'Ask for GPUs with --gpus N.',
      );
  }
  if (denies('runtime')) {
    const rt = optionValues(options, '--runtime').find((r) => GPU_RUNTIME.test(r));
    if (rt) throw new Denial('runtime', `--runtime ${rt} gives GPUs without allocation`, 'Ask for GPUs with --gpus N.');
  }
  if (denies('security-opt')) {
    const so = optionValues(options, '--security-opt').find((s) => UNSAFE_SECURITY_OPTS.test(s));
    if (so) throw new Denial('security-opt', `--security-opt ${so} turns off a protection`, 'Run without it.');
  }
  if (denies('bind-mount')) checkMounts(options, cwd, bindPolicyFor(policy, ctx.identity.user));

  // The flag checks passed; what is left asks Docker.

  // Joining another container's namespaces, volumes or links.
  const joins: { flag: string; ref: string }[] = [];
  for (const o of options) {
    if (o.value === undefined) continue;
    if (JOIN_FLAGS.includes(o.flag) && o.value.startsWith('container:'))
      joins.push({ flag: o.flag, ref: o.value.slice('container:'.length) });
    if (o.flag === '--volumes-from') joins.push({ flag: o.flag, ref: o.value.split(':')[0]! });
    if (o.flag === '--link') joins.push({ flag: o.flag, ref: o.value.split(':')[0]! });
  }
  // Named volumes: another user's is refused; a missing one is created as the owner's once every check has passed.
  const volumes = enforce ? namedVolumesOfOptions(options, cwd) : [];
  for (const v of volumes) checkNoDs01Labels(v.labels, owner, 'volume');
  const [missingVolumes] = await Promise.all([
    checkVolumesForCreate(ctx, docker, volumes, `${parsed.verbPath.join(' ')} volume`),
    ...joins.map((j) => checkTarget(ctx, docker, j.ref, { operation: `create ${j.flag}`, change: true })),
  ]);

  const slice = resolved.slice;
  const cgroupParents = optionValues(options, '--cgroup-parent');
  if (enforce && cgroupParents.some((c) => c !== slice)) {
    throw new Denial(
      'cgroup-parent',
      `--cgroup-parent ${cgroupParents.find((c) => c !== slice)} is not your slice (${slice})`,
      'Leave --cgroup-parent out.',
    );
  }

  const limitFlags = enforce ? applyLimits(options, containerLimitsOf(values), true) : [];
  const owned = ownedContainers(docker, owner);
  if (enforce) await checkMaxContainers(owned, values);

  if (enforce) {
    const requested = optionValues(options, '-m', '--memory').pop() ?? containerLimitsOf(values).memory;
    await checkAggregateMemory(docker, owned, resolved.aggregate, requested);
  }
  // The one change made before the real client runs: docker would create these unlabelled, owned by nobody.
  for (const v of missingVolumes) await createOwnedVolume(ctx, docker, v, owner, `${parsed.verbPath.join(' ')} volume`);

  const userOptions: string[] = [];
  const dropped = new Set<number>();
  for (const o of options) if (count > 0 && o.flag === '--gpus') for (let k = o.index; k < o.end; k++) dropped.add(k);
  for (let k = parsed.afterVerb; k < parsed.optionsEnd; k++) {
    if (dropped.has(k)) continue;
    const rep = replaced.get(k);
    if (rep) {
      userOptions.push(...rep);
      const o = options.find((x) => x.index === k)!;
      k = o.end - 1;
      continue;
    }
    if (argv[k] === '--') continue;
    userOptions.push(argv[k]!);
  }

  const createdAt = new Date().toISOString();
  const injected: string[] = [];
  const adminSet = new Set(identity.isAdmin ? labelKeys : []);
  const label = (k: string, val: string) => {
    if (!adminSet.has(k)) injected.push('--label', `${k}=${val}`);
  };
  label(LABELS.user, owner);
  label(LABELS.managed, 'true');
  label(LABELS.containerType, containerType);
  label(LABELS.interface, containerType);
  label(LABELS.createdAt, createdAt);
  if (slice) label(LABELS.slice, slice);
  // Not inherited from the image: a Dockerfile cannot exempt or give GPUs to a user's container (GPU labels are set after these).
  if (enforce) for (const k of INHERITABLE_PRIVILEGED_LABELS) label(k, '');
  if (slice && cgroupParents.length === 0) injected.push(`--cgroup-parent=${slice}`);
  injected.push(...limitFlags);
  // Images built on CUDA set NVIDIA_VISIBLE_DEVICES=all; on a daemon whose default runtime is nvidia that alone would expose every GPU.
  if (count === 0 && gpuValues.length === 0 && enforce) injected.push('--env', 'NVIDIA_VISIBLE_DEVICES=void');
  if (nameGenerated && name) injected.push('--name', name);

  const plan: CreatePlan = {
    owner,
    containerType,
    image: parsed.positionals[0]?.value ?? '',
    nameGenerated,
    gpuCount: count,
    gpuRequest: gpuValues.join(' '),
    slice,
    createdAt,
    userOptions,
    injected,
    tail: argv.slice(parsed.optionsEnd),
  };
  if (name) plan.name = name;
  return plan;
}

function checkMounts(options: readonly ParsedOption[], cwd: string, bindPolicy: BindPolicy): void {
  const binds: BindSource[] = [];
  for (const o of options) {
    if (o.value === undefined) continue;
    let source: string | null = null;
    if (o.flag === '-v' || o.flag === '--volume') source = volumeFlagSource(o.value, cwd);
    else if (o.flag === '--mount') {
      const m = parseMountFlag(o.value);
      if (bindsHostPath(optionPairs(m.volumeOpts)))
        throw new Denial('bind-mount', `--mount ${o.value} binds a host path through volume options`, 'Use a plain named volume.');
      if (m.type === 'bind' && m.source) source = m.source.startsWith('/') ? m.source : `${cwd}/${m.source}`;
    }
    if (source === null) continue;
    binds.push({ what: `${o.flag} ${o.value}`, source });
    const problem = hostPathProblem(source, bindPolicy);
    if (problem)
      throw new Denial('bind-mount', `${o.flag} ${o.value} mounts ${source}, which ${problem}`, 'Mount a directory of your own instead.');
  }
  // The last --restart wins, as in docker. Another container's volumes may bind host paths too.
  const from = volumesFromSources({ VolumesFrom: optionValues(options, '--volumes-from') });
  checkRestartWithBinds(optionValues(options, '--restart').at(-1), [...binds, ...from]);
}
