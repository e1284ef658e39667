/**
 * The site the demo simulates: two groups with small, fast limits so every
 * maintenance decision happens within seconds. Durations use the config's own
 * unit strings ("12s" for an _h key), as a site could.
 */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;
export type DemoUser = (typeof DEMO_USERS)[number];

/** The GPU scenario: four A100s, GPU 3 split into four MIG slices (test-support/fixtures/nvidia-smi/demo-4gpu). */
export const DEMO_GPU_SCENARIO = 'demo-4gpu';

/** Timings the scenario waits on; kept beside the config that sets them. */
export const DEMO_TIMES = {
  idleTimeoutS: 12,
  maxRuntimeS: 20,
  gpuHoldS: 4,
  warningLeadS: 2,
  /** How often the demo runs the idle and runtime jobs (cron does every 5 minutes). */
  jobIntervalMs: 2000,
  /** Give up waiting for the stops after this many job runs (once the limits have passed). */
  maxJobRounds: 25,
  /** Give up waiting for cleanup to free the GPUs after this many runs. */
  maxCleanupRuns: 6,
} as const;

export const DEMO_CONFIG = `# ds01 demo site: two groups, limits in seconds so the demo fits in two minutes.
defaults:
  max_gpu_equivalents: 1
  max_gpu_slots_per_container: 1
  allow_full_gpu: true
  max_containers_per_user: 3
  idle_timeout_h: null
  max_runtime_h: null
  gpu_hold_after_stop_h: ${DEMO_TIMES.gpuHoldS}s
  container_hold_after_stop_h: ${DEMO_TIMES.gpuHoldS}s

default_group: students

groups:
  # Students share MIG slices and lose idle containers quickly.
  students:
    members: [alice, carol]
    allow_full_gpu: false
    max_gpu_equivalents: 0.5
    idle_timeout_h: ${DEMO_TIMES.idleTimeoutS}s
  # Researchers get whole GPUs, one at a time, with a wall-time limit.
  researchers:
    members: [bob]
    allow_full_gpu: true
    max_gpu_equivalents: 1
    max_runtime_h: ${DEMO_TIMES.maxRuntimeS}s

policies:
  grace_period_m: 0
  warning_lead_m: ${DEMO_TIMES.warningLeadS}s
  gpu_idle_threshold: 5
  cpu_idle_threshold: 5
  sigterm_grace_s: 1
  created_container_timeout_m: 1

gpu_allocation:
  wait_max_s: 0
  lock_timeout_s: 10

access_control:
  admin_users: []
  admin_group: ds01-admin
  wrapper:
    enforcement_mode: full
`;
