// The engine a benchmark runs against: DOCKER_HOST if it answers, else a
// private dockerd (root, Debian docker.io) as the tests start it, with a small
// JSON request helper. Exits with a message when there is no Docker at all.
import { dockerRequest, ensureDocker, parseDockerHost } from '../../test-support/docker-daemon.mjs';

export async function benchDocker() {
  const docker = await ensureDocker({ log: (m) => process.stderr.write(`[bench] ${m}\n`) });
  if ('unavailable' in docker) {
    console.error(`no Docker: ${docker.unavailable}`);
    process.exit(1);
  }
  const target = parseDockerHost(docker.dockerHost);
  /** One Engine API call; `json()` parses the answer. */
  const api = async (method, apiPath, body) => {
    const r = await dockerRequest(
      target,
      method,
      apiPath,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    );
    return { status: r.status, text: r.text, json: () => JSON.parse(r.text) };
  };
  return { docker, api };
}
