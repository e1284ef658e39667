import { bool, details, gpuRefList, int, num, str, strList, strOrNull } from './schema-parts.js';

/**
 * Container lifecycle: written by the docker wrapper, the Docker event watcher and the cleanup job.
 * `docker_time_nano` (watcher): the Docker event's own time in nanoseconds, as a decimal string
 * (too large for a JSON number); with `container_id` and the type it identifies the Docker event.
 */
export const containerEvents = {
  'container.create': {
    description: 'A container was created (by the wrapper, or seen by the watcher when created around it).',
    details: details(
      {
        container: str,
        container_id: str,
        docker_time_nano: str,
        image: str,
        container_type: str,
        gpus: gpuRefList,
        gpu_request: str,
        managed: bool,
        created_by: str,
      },
      ['container'],
    ),
  },
  'container.remove': {
    description: 'A container was removed.',
    details: details(
      {
        container: str,
        container_id: str,
        docker_time_nano: str,
        reason: str,
        container_type: str,
        stopped_for_s: num,
        age_s: num,
        gpus_released: strList,
        removed_by: str,
        hold_key: str,
        hold_s: num,
      },
      ['container'],
    ),
  },
  'container.start': {
    description: 'A container started.',
    details: details({ container: str, container_id: str, docker_time_nano: str, image: str, container_type: str }, ['container']),
  },
  'container.stop': {
    description: 'A container stopped (its main process exited).',
    details: details(
      {
        container: str,
        container_id: str,
        docker_time_nano: str,
        exit_code: int,
        oom_killed: bool,
        signal: strOrNull,
        ran_for_s: num,
        container_type: str,
      },
      ['container'],
    ),
  },
  'container.oom': {
    description: 'A process in the container was killed for exceeding its memory limit.',
    details: details({ container: str, container_id: str, docker_time_nano: str, memory_limit: str }, ['container']),
  },
  'container.rename': {
    description: 'A container was renamed.',
    details: details({ container: str, container_id: str, docker_time_nano: str, old_name: str }, ['container']),
  },
  'container.pause': {
    description: 'A container was paused.',
    details: details({ container: str, container_id: str, docker_time_nano: str }, ['container']),
  },
  'container.unpause': {
    description: 'A container was unpaused.',
    details: details({ container: str, container_id: str, docker_time_nano: str }, ['container']),
  },
} as const;
