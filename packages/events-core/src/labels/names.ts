/** The ds01.* Docker label contract (DS01 label-schema 1.0), unchanged so DS01 containers keep working. */
export const LABELS = {
  user: 'ds01.user',
  managed: 'ds01.managed',
  interface: 'ds01.interface',
  containerType: 'ds01.container_type',
  createdAt: 'ds01.created_at',
  name: 'ds01.name',
  gpuUuid: 'ds01.gpu.uuid',
  gpuUuids: 'ds01.gpu.uuids',
  gpuSlots: 'ds01.gpu.slots',
  gpuAllocated: 'ds01.gpu.allocated',
  gpuEphemeral: 'ds01.gpu_ephemeral',
  gpuSlot: 'ds01.gpu_slot',
  gpus: 'ds01.gpus',
  slice: 'ds01.slice',
  protected: 'ds01.protected',
  monitoring: 'ds01.monitoring',
  username: 'ds01.username',
} as const;

/** Labels written by tools DS01 replaced or lives beside, read as ownership and type hints. */
export const FOREIGN_LABELS = {
  legacyUser: 'aime.mlc.USER',
  legacyType: 'aime.mlc.DS01_TYPE',
  devcontainerFolder: 'devcontainer.local_folder',
  devcontainerMetadata: 'devcontainer.metadata',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  jupyterUser: 'hub.jupyter.org/username',
} as const;

export const LABEL_PREFIX = 'ds01.';

/**
 * The ds01 labels that exempt a container from the maintenance jobs or claim
 * GPUs for it. Docker copies an image's labels into every container that does
 * not set them, so a Dockerfile `LABEL ds01.protected=true` would otherwise
 * pass to a user's containers: the wrapper and the proxy set each of these the
 * create does not set itself, empty (every reader treats empty as absent).
 */
export const INHERITABLE_PRIVILEGED_LABELS = [
  LABELS.protected,
  LABELS.monitoring,
  LABELS.gpuUuids,
  LABELS.gpuUuid,
  LABELS.gpuSlots,
] as const;

export const CONTAINER_TYPES = ['orchestration', 'atomic', 'api', 'devcontainer', 'compose', 'docker', 'unknown'] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number] | (string & {});
