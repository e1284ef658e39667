export const packageName = '@ds01/docker-wrapper';
export { type CheckOptions, checkTarget, checkTargets, sameUser } from './check-ownership.js';
export {
  applyEnvSwitches,
  DEFAULT_DENIED_BIND_MOUNTS,
  loadContext,
  POLICY_RULES,
  type WrapperContext,
  type WrapperPolicy,
} from './context.js';
export { deniedHostPath, parseMountFlag, volumeFlagSource } from './create/bind-mounts.js';
export { deviceGpuValue, type GpuRequest, gpuCount, parseGpuValue, splitCsv } from './create/gpu-request.js';
export { applyLimits, type ContainerLimits, containerLimitsOf } from './create/limits.js';
export { type CreatePlan, prepareCreate } from './create/prepare-create.js';
export { parseDockerSize } from './create/sizes.js';
export { Denial, UsageError } from './deny.js';
export { renderLauncher } from './launcher.js';
export { flushEvents, logEvent } from './log.js';
export { cpTargets, dispatch } from './main.js';
export { boolOption, hasOption, optionValues, type ParsedCommand, type ParsedOption, parseArgs } from './parse-args.js';
export { realDockerPath, resolveRealDocker, runReal, WrapperLoopError } from './real-docker.js';
export * from './verb-table.js';
