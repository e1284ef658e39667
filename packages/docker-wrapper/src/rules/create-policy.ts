/**
 * The create-time policy both boundaries apply: the wrapper on docker's
 * command line (create/prepare-create.ts) and the Engine API proxy on the
 * create request's JSON (proxy/check-create.ts). One list, two readers.
 */

/** Environment variables that choose GPUs behind the allocator's back. */
export const GPU_ENV_NAMES = ['NVIDIA_VISIBLE_DEVICES', 'CUDA_VISIBLE_DEVICES', 'NVIDIA_MIG_CONFIG_DEVICES', 'NVIDIA_MIG_MONITOR_DEVICES'];

/** Namespace options refused with the value `host` (CLI flags). */
export const HOST_NS_FLAGS = ['--pid', '--ipc', '--userns', '--uts', '--cgroupns', '--network', '--net'];
/** The same options as HostConfig fields. */
export const HOST_NS_FIELDS = ['PidMode', 'IpcMode', 'UsernsMode', 'UTSMode', 'CgroupnsMode', 'NetworkMode'] as const;

/** Namespace options that can join another container (`container:X`), as flags and as HostConfig fields. */
export const JOIN_FLAGS = ['--pid', '--ipc', '--network', '--net'];
export const JOIN_FIELDS = ['PidMode', 'IpcMode', 'NetworkMode'] as const;

/** `--security-opt` values that turn a protection off. */
export const UNSAFE_SECURITY_OPTS = /^(seccomp|apparmor|label|systempaths)[=:]/i;

/** The runtime that hands out GPUs without the allocator. */
export const GPU_RUNTIME = /nvidia/i;

/** The container type from its label keys: devcontainer, compose, else docker. */
export function detectType(labelKeys: readonly string[]): string {
  if (labelKeys.some((k) => k.startsWith('devcontainer.'))) return 'devcontainer';
  if (labelKeys.some((k) => k.startsWith('com.docker.compose.'))) return 'compose';
  return 'docker';
}

/** A name for a GPU container created without one (the allocator keys reservations by name). */
export function gpuContainerName(owner: string): string {
  const stamp = Date.now().toString(36);
  const rand = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${owner.replace(/[^a-zA-Z0-9_.-]/g, '_')}-gpu-${stamp}${rand}`;
}
