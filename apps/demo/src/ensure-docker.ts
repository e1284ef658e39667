import { fileURLToPath } from 'node:url';

/** The shape of test-support/docker-daemon.mjs (plain ESM, no types of its own). */
interface DockerDaemonModule {
  ensureDocker(opts: {
    log?: (msg: string) => void;
  }): Promise<{ dockerHost: string; image: string; stop: () => Promise<void>; private: boolean } | { unavailable: string }>;
  parseDockerHost(host: string): object | null;
  dockerRequest(
    target: object,
    method: string,
    apiPath: string,
    opts?: { body?: string; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<{ status: number; text: string }>;
  TEST_IMAGE: string;
}

export interface DemoDocker {
  dockerHost: string;
  image: string;
  /** We started this daemon (and stop it at the end). */
  private: boolean;
  /** The image was imported for the demo into a daemon that is not ours (removed at the end). */
  importedImage: boolean;
  stop: () => Promise<void>;
  request: (method: string, apiPath: string, body?: unknown) => Promise<{ status: number; json: unknown; text: string }>;
}

// Same root-level module the test suite uses: from src/ or dist/ it is three levels up.
const moduleUrl = new URL('../../../test-support/docker-daemon.mjs', import.meta.url);

export const NO_DOCKER_HELP = `The demo needs a Docker engine. Either:
  - point DOCKER_HOST at one (e.g. DOCKER_HOST=unix:///var/run/docker.sock npm run demo), or
  - run it as root on a machine with Debian's docker.io and busybox-static installed
    (apt-get install docker.io busybox-static): it starts a private dockerd in /tmp and removes it afterwards.`;

export async function ensureDemoDocker(log: (msg: string) => void): Promise<DemoDocker | { unavailable: string }> {
  const mod = (await import(fileURLToPath(moduleUrl))) as DockerDaemonModule;
  let importedImage = false;
  // Whether the image is already in a daemon we did not start, so a demo image we import there can be removed again.
  const envHost = process.env.DOCKER_HOST;
  const envTarget = envHost ? mod.parseDockerHost(envHost) : null;
  let hadImage = true;
  if (envTarget) {
    try {
      hadImage = (await mod.dockerRequest(envTarget, 'GET', `/images/${mod.TEST_IMAGE}/json`, { timeoutMs: 3000 })).status === 200;
    } catch {
      hadImage = true; // not answering: ensureDocker falls back to a private daemon
    }
  }
  const docker = await mod.ensureDocker({ log });
  if ('unavailable' in docker) return docker;
  if (!docker.private && !hadImage) importedImage = true;
  const target = mod.parseDockerHost(docker.dockerHost);
  if (!target) return { unavailable: `DOCKER_HOST=${docker.dockerHost} is not usable` };
  const request = async (method: string, apiPath: string, body?: unknown) => {
    const res = await mod.dockerRequest(target, method, apiPath, {
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      timeoutMs: 30_000,
    });
    let json: unknown = null;
    try {
      json = JSON.parse(res.text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text: res.text };
  };
  return { dockerHost: docker.dockerHost, image: docker.image, private: docker.private, importedImage, stop: docker.stop, request };
}
