export { containerIdFromCgroup, containerIdOfPid } from './container-of-pid.js';
export { type Decision, decideContainersPhase, decideGpuPhase, type Phase, type RemoveReason } from './decide-removal.js';
export { findOrphanAllocations, findOrphanProcesses, type OrphanAllocation, type OrphanProcess } from './find-orphans.js';
export { listContainers } from './list-containers.js';
export { parseComputeApps, parseGpuList, physicalGpu } from './read-gpu-processes.js';
export { type AllocatorResult, allocatorCommand, runAllocator } from './run-allocator.js';
export {
  type CleanupOptions,
  type CleanupReport,
  type Command,
  type ContainerReport,
  runCleanup,
} from './run-cleanup.js';
export { type Selection, selectionMiss } from './select-containers.js';
export { summaryLine } from './summary.js';
