/**
 * The site configuration schema: the one table of every config key, its type
 * and its meaning. DS01's resource-limits.yaml loads as it is; keys ds01 adds
 * are marked "ds01:". Types of the loaded config are derived from here.
 */

const hours = {
  type: ['number', 'null'],
  minimum: 0,
  description: 'Hours (a number, or a duration such as "90m", "1.5h", "2d"). null disables.',
} as const;
const minutes = { type: ['number', 'null'], minimum: 0, description: 'Minutes (number or duration string).' } as const;
const seconds = { type: ['number', 'null'], minimum: 0, description: 'Seconds (number or duration string).' } as const;
const positiveOrNull = { type: ['number', 'null'], minimum: 0 } as const;
const intOrNull = { type: ['integer', 'null'], minimum: 0 } as const;
const dockerSize = {
  type: ['string', 'null'],
  pattern: '^[0-9]+(\\.[0-9]+)?[bkmgtBKMGT]?$',
  description: 'A docker size such as "32g".',
} as const;
const userList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const policiesSchema = {
  type: 'object',
  properties: {
    high_demand_threshold: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Fraction of GPUs allocated at which the server counts as in high demand.',
    },
    high_demand_idle_reduction: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Multiplier applied to idle timeouts during high demand (0.5 halves them).',
    },
    gpu_idle_threshold: { type: 'number', minimum: 0, maximum: 100, description: 'GPU utilisation % under which a GPU counts as idle.' },
    cpu_idle_threshold: { type: 'number', minimum: 0, description: 'CPU % of one core under which a container counts as idle.' },
    network_idle_threshold: {
      type: 'number',
      minimum: 0,
      description: 'Bytes received+sent between two samples under which the network counts as idle.',
    },
    idle_detection_window: {
      type: 'integer',
      minimum: 1,
      description: 'DS01: consecutive idle checks. Read for compatibility; ds01 measures idle time instead.',
    },
    grace_period_m: { ...minutes, description: 'Minutes after a start before idle detection may stop a container.' },
    keepalive_max_duration_h: { ...hours, description: 'Longest a /workspace/.keep-alive file can postpone an idle stop.' },
    sigterm_grace_s: { ...seconds, description: 'Seconds between SIGTERM and SIGKILL when a job stops a container.' },
    gpu_hold_after_manual_stop_m: { ...minutes, description: 'DS01 key, read for compatibility.' },
    created_container_timeout_m: { ...minutes, description: 'Minutes after which a created-but-never-started container is removed.' },
    warning_lead_m: { ...minutes, description: 'ds01: the final warning goes out at least this many minutes before any stop.' },
    runtime_mode: {
      enum: ['accumulated', 'since_start'],
      description: 'ds01: count runtime across restarts (accumulated, default) or since the last start (DS01).',
    },
    idle_cpu_only_containers: { type: 'boolean', description: 'ds01: the idle job also stops idle containers without GPUs.' },
    cleanup_remove_anonymous_volumes: {
      type: 'boolean',
      description: 'ds01: ds01-cleanup also removes the anonymous volumes of the containers it removes (default false: kept).',
    },
  },
  additionalProperties: true,
} as const;

export const aggregateSchema = {
  type: ['object', 'null'],
  properties: {
    cpu_quota: { type: ['string', 'null'] },
    memory_max: { type: ['string', 'null'] },
    memory_high: { type: ['string', 'null'] },
    tasks_max: intOrNull,
    gpu_limit: { ...positiveOrNull, description: 'Total GPU-equivalents across all of a user’s containers.' },
  },
  additionalProperties: true,
} as const;

/** Keys allowed in `defaults`, in each group and in each user override. */
export const limitBlockProperties = {
  max_gpu_equivalents: {
    ...positiveOrNull,
    description: 'Total GPU-equivalents (a whole GPU is 1, a 3g slice of 7 is 3/7) across the user’s containers. null: unlimited.',
  },
  max_gpu_slots: { ...positiveOrNull, description: 'Old name of max_gpu_equivalents.' },
  max_gpus_per_user: { ...positiveOrNull, description: 'Old name of max_gpu_equivalents.' },
  max_mig_instances: { ...positiveOrNull, description: 'Old name of max_gpu_equivalents.' },
  max_gpu_slots_per_container: { ...intOrNull, description: 'Most GPU/MIG slots in one container. null: unlimited.' },
  max_gpus_per_container: { ...intOrNull, description: 'Old name of max_gpu_slots_per_container.' },
  max_mig_per_container: { ...intOrNull, description: 'Old name of max_gpu_slots_per_container.' },
  allow_full_gpu: { type: 'boolean', description: 'May take a whole (non-MIG) GPU.' },
  priority: { type: 'integer', description: 'DS01 key; has no effect.' },
  max_cpus: { ...positiveOrNull, description: 'CPUs per container (docker --cpus).' },
  cpus: { ...positiveOrNull, description: 'Old name of max_cpus.' },
  memory: { ...dockerSize, description: 'Memory per container (docker --memory).' },
  memory_swap: { ...dockerSize, description: 'Memory+swap per container (docker --memory-swap).' },
  shm_size: { ...dockerSize, description: 'Shared memory per container (docker --shm-size).' },
  pids_limit: { ...intOrNull, description: 'Processes per container (docker --pids-limit).' },
  max_tasks: { ...intOrNull, description: 'Tasks in the user’s systemd slice.' },
  max_containers_per_user: { ...intOrNull, description: 'Containers a user may have at once (any state).' },
  max_runtime_h: { ...hours, description: 'Wall-time limit of a container.' },
  idle_timeout_h: { ...hours, description: 'Stop a container after this long idle.' },
  gpu_hold_after_stop_h: { ...hours, description: 'How long a stopped container keeps its GPUs. 0: no hold; null: until removed.' },
  container_hold_after_stop_h: { ...hours, description: 'Remove a stopped container after this long. null: never.' },
  runtime_mode: { enum: ['accumulated', 'since_start'] },
  aggregate: aggregateSchema,
  policies: policiesSchema,
} as const;

const limitBlock = { type: 'object', properties: limitBlockProperties, additionalProperties: true } as const;
const groupBlock = {
  type: 'object',
  properties: { ...limitBlockProperties, members: userList },
  additionalProperties: true,
} as const;

const containerTypeBlock = {
  type: 'object',
  properties: {
    idle_timeout_h: hours,
    max_runtime_h: hours,
    sigterm_grace_s: seconds,
    container_hold_after_stop_h: hours,
    gpu_hold_after_stop_h: hours,
  },
  additionalProperties: true,
} as const;

export const siteConfigSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://ds01.dev/schemas/site-config.json',
  title: 'ds01 site configuration (DS01 resource-limits.yaml)',
  type: 'object',
  properties: {
    defaults: limitBlock,
    default_group: { type: 'string', minLength: 1 },
    groups: { type: ['object', 'null'], additionalProperties: groupBlock },
    user_overrides: { type: ['object', 'null'], additionalProperties: limitBlock },
    enforcement: {
      type: 'object',
      properties: { aggregate_limits: { type: 'boolean' }, cgroup_driver: { enum: ['systemd', 'cgroupfs'] } },
      additionalProperties: true,
    },
    policies: policiesSchema,
    container_types: { type: ['object', 'null'], additionalProperties: containerTypeBlock },
    gpu_allocation: {
      type: ['object', 'null'],
      properties: {
        reservation_ttl_s: { ...seconds, description: 'ds01: a reservation whose container never appears expires after this.' },
        wait_max_s: { ...seconds, description: 'ds01: how long the wrapper waits for a GPU when none is free (0: fail at once).' },
        wait_interval_s: { ...seconds, description: 'ds01: seconds between retries while waiting for a GPU.' },
        lock_timeout_s: { ...seconds, description: 'ds01: longest wait for the allocator state lock before failing.' },
        slots_per_gpu: { type: ['integer', 'null'] },
        mig_instances_per_gpu: { type: ['integer', 'null'] },
      },
      additionalProperties: true,
    },
    monitoring: {
      type: ['object', 'null'],
      properties: {
        infrastructure_containers: userList,
        infrastructure_label: { type: 'string' },
      },
      additionalProperties: true,
    },
    bare_metal_access: { type: ['object', 'null'], additionalProperties: true },
    docker_proxy: {
      type: ['object', 'null'],
      description: 'ds01: the Engine API proxy (ds01-docker-proxy), the server-side docker boundary.',
      properties: {
        socket_dir: {
          type: 'string',
          minLength: 1,
          description: 'ds01: directory of the per-user sockets <socket_dir>/<user>/docker.sock (default /run/ds01/docker).',
        },
        upstream: {
          type: 'string',
          minLength: 1,
          description: 'ds01: the real daemon, root-only (default DOCKER_HOST, else unix:///var/run/docker.sock).',
        },
        users_group: {
          type: ['string', 'null'],
          description: "ds01: a Unix group whose members get a socket too (besides every member of the config's groups).",
        },
        allow_image_load: {
          type: 'boolean',
          description:
            "ds01: let users `docker load` through the proxy (default false: administrators only). A load can point any tag, a shared one such as ubuntu:22.04 or another user's, at the loaded image.",
        },
      },
      additionalProperties: true,
    },
    access_control: {
      type: ['object', 'null'],
      properties: {
        admin_users: userList,
        admin_group: { type: ['string', 'null'] },
        wrapper: {
          type: ['object', 'null'],
          properties: {
            enforcement_mode: { enum: ['disabled', 'monitoring', 'full'] },
            debug_level: { type: 'integer', minimum: 0, maximum: 2 },
            unknown_commands: { enum: ['allow', 'deny'] },
            denied_flags: { ...userList, description: 'ds01: flags refused for non-admins (default: the built-in list).' },
            denied_bind_mounts: {
              ...userList,
              description: 'ds01: host paths that may not be bind-mounted (default: /, /etc, /var/run/docker.sock, ...).',
            },
            allowed_bind_mounts: {
              ...userList,
              description:
                "ds01: when set, the only host paths non-admins may bind-mount, and what lies inside them, links followed ({home}: the user's home directory, {user}: their name). Unset: any path outside denied_bind_mounts.",
            },
          },
          additionalProperties: true,
        },
      },
      additionalProperties: true,
    },
  },
  additionalProperties: true,
} as const;

/** Durations: the unit of each key comes from its suffix. */
export function unitOfKey(key: string): 'h' | 'm' | 's' | undefined {
  if (key.endsWith('_h')) return 'h';
  if (key.endsWith('_m')) return 'm';
  if (key.endsWith('_s')) return 's';
  return undefined;
}
