/**
 * The one table of docker's command line as the wrapper needs it: global
 * flags, every verb the wrapper treats specially, and which flags of each verb
 * take a value (so that a value is never mistaken for a target or the image).
 * The parser, the dispatcher and the generated fast launcher all read it.
 *
 * Flags are written as docker prints them (`-e`, `--env`). A flag missing from
 * a verb's list is read as a boolean, which is what docker does for the rest.
 */

/** What the wrapper does with a verb. */
export type VerbKind =
  /** Never inspected: the real client runs as is (the fast launcher may skip Node). */
  | 'passthrough'
  /** `ps`, `container ls`: the caller's containers only. */
  | 'list'
  /** Names containers: each target is resolved and checked. */
  | 'targets'
  /** `run`, `create`: labels, slice, limits, policy, GPUs. */
  | 'create'
  /** `stats`: targets checked; without targets, the caller's running containers. */
  | 'stats'
  /** `events`: the caller's containers' events only. */
  | 'events'
  /** `network connect|disconnect NETWORK CONTAINER`. */
  | 'network-member'
  /** `container prune`: limited to the caller's containers. */
  | 'prune-own'
  /** `volume create`: labelled as the caller's; driver options that bind host paths are refused. */
  | 'volume-create'
  /** `volume rm`: the caller's own volumes only (positionals name volumes). */
  | 'volume-rm'
  /** Reaches past the wrapper's rules (swarm services, plugins, whole-host prune): admins only. */
  | 'admin-only';

/** Which positionals name containers. */
export type TargetRule = 'all' | 'first' | 'cp' | 'none';

export interface VerbSpec {
  kind: VerbKind;
  /** Flags that take a value, short and long. */
  valueFlags: readonly string[];
  targets: TargetRule;
  /** Changes the container: refused on `ds01.protected=true` for non-admins. */
  change: boolean;
  /** Why an admin-only verb is refused (shown to the user). */
  why?: string;
}

/** Global flags (before the verb). */
export const GLOBAL_VALUE_FLAGS = [
  '--config',
  '-c',
  '--context',
  '-H',
  '--host',
  '-l',
  '--log-level',
  '--tlscacert',
  '--tlscert',
  '--tlskey',
];
export const GLOBAL_BOOL_FLAGS = ['-D', '--debug', '--tls', '--tlsverify', '-v', '--version', '-h', '--help'];

const RUN_VALUE_FLAGS = [
  '--add-host',
  '--annotation',
  '-a',
  '--attach',
  '--blkio-weight',
  '--blkio-weight-device',
  '--cap-add',
  '--cap-drop',
  '--cgroup-parent',
  '--cgroupns',
  '--cidfile',
  '--cpu-count',
  '--cpu-percent',
  '--cpu-period',
  '--cpu-quota',
  '--cpu-rt-period',
  '--cpu-rt-runtime',
  '-c',
  '--cpu-shares',
  '--cpus',
  '--cpuset-cpus',
  '--cpuset-mems',
  '--detach-keys',
  '--device',
  '--device-cgroup-rule',
  '--device-read-bps',
  '--device-read-iops',
  '--device-write-bps',
  '--device-write-iops',
  '--dns',
  '--dns-opt',
  '--dns-option',
  '--dns-search',
  '--domainname',
  '--entrypoint',
  '-e',
  '--env',
  '--env-file',
  '--expose',
  '--gpus',
  '--group-add',
  '--health-cmd',
  '--health-interval',
  '--health-retries',
  '--health-start-interval',
  '--health-start-period',
  '--health-timeout',
  '-h',
  '--hostname',
  '--io-maxbandwidth',
  '--io-maxiops',
  '--ip',
  '--ip6',
  '--ipc',
  '--isolation',
  '--kernel-memory',
  '-l',
  '--label',
  '--label-file',
  '--link',
  '--link-local-ip',
  '--log-driver',
  '--log-opt',
  '--mac-address',
  '-m',
  '--memory',
  '--memory-reservation',
  '--memory-swap',
  '--memory-swappiness',
  '--mount',
  '--name',
  '--net',
  '--net-alias',
  '--network',
  '--network-alias',
  '--oom-score-adj',
  '--pid',
  '--pids-limit',
  '--platform',
  '-p',
  '--publish',
  '--pull',
  '--restart',
  '--runtime',
  '--security-opt',
  '--shm-size',
  '--stop-signal',
  '--stop-timeout',
  '--storage-opt',
  '--sysctl',
  '--tmpfs',
  '--ulimit',
  '-u',
  '--user',
  '--userns',
  '--uts',
  '-v',
  '--volume',
  '--volume-driver',
  '--volumes-from',
  '-w',
  '--workdir',
];

const UPDATE_VALUE_FLAGS = [
  '--blkio-weight',
  '--cpu-period',
  '--cpu-quota',
  '--cpu-rt-period',
  '--cpu-rt-runtime',
  '-c',
  '--cpu-shares',
  '--cpus',
  '--cpuset-cpus',
  '--cpuset-mems',
  '--kernel-memory',
  '-m',
  '--memory',
  '--memory-reservation',
  '--memory-swap',
  '--pids-limit',
  '--restart',
];

const v = (kind: VerbKind, valueFlags: readonly string[], targets: TargetRule, change = false, why?: string): VerbSpec =>
  why ? { kind, valueFlags, targets, change, why } : { kind, valueFlags, targets, change };

/** Verbs on containers, valid both at the top level and under `docker container`. */
export const CONTAINER_VERBS: Record<string, VerbSpec> = {
  run: v('create', RUN_VALUE_FLAGS, 'none'),
  create: v('create', RUN_VALUE_FLAGS, 'none'),
  exec: v('targets', ['--detach-keys', '-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir'], 'first', true),
  logs: v('targets', ['--since', '-n', '--tail', '--until'], 'first'),
  inspect: v('targets', ['-f', '--format', '--type'], 'all'),
  stats: v('stats', ['--format'], 'all'),
  attach: v('targets', ['--detach-keys'], 'first', true),
  top: v('targets', [], 'first'),
  port: v('targets', [], 'first'),
  diff: v('targets', [], 'first'),
  export: v('targets', ['-o', '--output'], 'first'),
  wait: v('targets', [], 'all'),
  cp: v('targets', [], 'cp', true),
  commit: v('targets', ['-a', '--author', '-c', '--change', '-m', '--message'], 'first'),
  stop: v('targets', ['-s', '--signal', '-t', '--time', '--timeout'], 'all', true),
  start: v('targets', ['--checkpoint', '--checkpoint-dir', '--detach-keys'], 'all', true),
  restart: v('targets', ['-s', '--signal', '-t', '--time', '--timeout'], 'all', true),
  pause: v('targets', [], 'all', true),
  unpause: v('targets', [], 'all', true),
  kill: v('targets', ['-s', '--signal'], 'all', true),
  rm: v('targets', [], 'all', true),
  rename: v('targets', [], 'first', true),
  update: v('targets', UPDATE_VALUE_FLAGS, 'all', true),
  ps: v('list', ['-f', '--filter', '--format', '-n', '--last'], 'none'),
};

/** `docker container <verb>` adds listing aliases and prune. */
export const CONTAINER_GROUP_VERBS: Record<string, VerbSpec> = {
  ...CONTAINER_VERBS,
  ls: CONTAINER_VERBS.ps!,
  list: CONTAINER_VERBS.ps!,
  remove: CONTAINER_VERBS.rm!,
  prune: v('prune-own', ['--filter'], 'none', true),
};

const PASS = v('passthrough', [], 'none');
const ADMIN_SWARM = 'swarm services and stacks start containers outside the wrapper';

/** Top-level verbs that are not container verbs. */
export const OTHER_VERBS: Record<string, VerbSpec> = {
  events: v('events', ['-f', '--filter', '--format', '--since', '--until'], 'none'),
  build: PASS,
  builder: PASS,
  buildx: PASS,
  context: PASS,
  help: PASS,
  history: PASS,
  image: PASS,
  images: PASS,
  import: PASS,
  info: PASS,
  load: PASS,
  login: PASS,
  logout: PASS,
  manifest: PASS,
  pull: PASS,
  push: PASS,
  rmi: PASS,
  save: PASS,
  search: PASS,
  tag: PASS,
  trust: PASS,
  version: PASS,
  checkpoint: v('admin-only', [], 'none', true, 'checkpoints restore container state outside the wrapper'),
  config: v('admin-only', [], 'none', true, ADMIN_SWARM),
  node: v('admin-only', [], 'none', true, ADMIN_SWARM),
  plugin: v('admin-only', [], 'none', true, 'plugins run with privileges granted to the Docker daemon'),
  secret: v('admin-only', [], 'none', true, ADMIN_SWARM),
  service: v('admin-only', [], 'none', true, ADMIN_SWARM),
  stack: v('admin-only', [], 'none', true, ADMIN_SWARM),
  swarm: v('admin-only', [], 'none', true, ADMIN_SWARM),
};

/** Groups (`docker <group> <sub>`) whose subcommands differ in treatment. */
export const GROUPS: Record<string, { verbs: Record<string, VerbSpec>; otherwise: VerbSpec }> = {
  container: { verbs: CONTAINER_GROUP_VERBS, otherwise: PASS },
  network: {
    verbs: {
      connect: v(
        'network-member',
        ['--alias', '--driver-opt', '--gw-priority', '--ip', '--ip6', '--link', '--link-local-ip'],
        'none',
        true,
      ),
      disconnect: v('network-member', [], 'none', true),
    },
    otherwise: PASS,
  },
  system: {
    verbs: {
      events: OTHER_VERBS.events!,
      prune: v('admin-only', ['--filter'], 'none', true, "it removes other users' containers, volumes and images"),
    },
    otherwise: PASS,
  },
  volume: {
    verbs: {
      create: v(
        'volume-create',
        [
          '-d',
          '--driver',
          '--label',
          '--name',
          '-o',
          '--opt',
          '--availability',
          '--group',
          '--limit-bytes',
          '--required-bytes',
          '--scope',
          '--secret',
          '--sharing',
          '--topology-preferred',
          '--topology-required',
          '--type',
        ],
        'none',
      ),
      rm: v('volume-rm', [], 'none', true),
      remove: v('volume-rm', [], 'none', true),
      prune: v('admin-only', ['--filter'], 'none', true, "it removes other users' volumes"),
    },
    otherwise: PASS,
  },
};

/** Flags every verb accepts. */
export const HELP_FLAGS = ['--help'];

/**
 * Top-level words the fast launcher may hand straight to the real client
 * (group words only when every subcommand is pass-through).
 */
export function passThroughWords(): string[] {
  return Object.entries(OTHER_VERBS)
    .filter(([, spec]) => spec.kind === 'passthrough')
    .map(([word]) => word)
    .sort();
}

const createVerbsOf = (verbs: Record<string, VerbSpec>): string[] =>
  Object.entries(verbs)
    .filter(([, spec]) => spec.kind === 'create')
    .map(([word]) => word)
    .sort();

/** What starts a create, for the launcher: top-level verbs (`run`, `create`), and each group's (`container run`…). */
export function createWords(): { verbs: string[]; groups: Record<string, string[]> } {
  const groups: Record<string, string[]> = {};
  for (const [word, g] of Object.entries(GROUPS)) {
    const verbs = createVerbsOf(g.verbs);
    if (verbs.length > 0) groups[word] = verbs;
  }
  return { verbs: createVerbsOf(CONTAINER_VERBS), groups };
}

/**
 * Kinds that ds01-docker-proxy decides request by request as the wrapper
 * decides the command: on a user's own proxy socket the launcher may hand
 * these to the real client without starting Node. Not creates (the wrapper
 * allocates GPUs first, with progress on stderr) and not admin-only verbs
 * (the wrapper refuses the whole command before anything happens, where the
 * proxy would refuse request by request, after `system prune` had already
 * pruned the caller's containers).
 */
const PROXY_DECIDES: ReadonlySet<VerbKind> = new Set<VerbKind>([
  'passthrough',
  'list',
  'targets',
  'stats',
  'events',
  'network-member',
  'prune-own',
  'volume-create',
  'volume-rm',
]);

/**
 * What the launcher may send straight to the caller's proxy socket: top-level
 * verbs, and for each group the subcommands it must still give the wrapper
 * (everything else in the group goes to the proxy).
 */
export function proxyDecidedWords(): { verbs: string[]; groups: Record<string, string[]> } {
  // Pass-through verbs are not listed: the launcher has exec'd the real client for those before it asks.
  const verbs = Object.entries({ ...CONTAINER_VERBS, ...OTHER_VERBS })
    .filter(([, spec]) => spec.kind !== 'passthrough' && PROXY_DECIDES.has(spec.kind))
    .map(([word]) => word)
    .sort();
  const groups: Record<string, string[]> = {};
  for (const [word, g] of Object.entries(GROUPS)) {
    if (!PROXY_DECIDES.has(g.otherwise.kind)) continue;
    groups[word] = Object.entries(g.verbs)
      .filter(([, spec]) => !PROXY_DECIDES.has(spec.kind))
      .map(([sub]) => sub)
      .sort();
  }
  return { verbs, groups };
}
