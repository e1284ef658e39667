export {
  type ContainerFacts,
  factsFromInspect,
  factsFromSummary,
  type GpuUse,
  isExemptFromMaintenance,
  isManaged,
  type OwnerResult,
  readGpuUse,
  readOwner,
  readType,
} from './container-facts.js';
export { CONTAINER_TYPES, type ContainerType, FOREIGN_LABELS, INHERITABLE_PRIVILEGED_LABELS, LABEL_PREFIX, LABELS } from './names.js';
