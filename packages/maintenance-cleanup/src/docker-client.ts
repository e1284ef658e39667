import Docker from 'dockerode';

/** The Docker Engine API client; dockerode follows DOCKER_HOST (unix:// or tcp://) like the docker CLI. */
export function openDocker(): Docker {
  return new Docker();
}
