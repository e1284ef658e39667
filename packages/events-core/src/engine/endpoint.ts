export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The daemon a client talks to without -H/--context: DOCKER_HOST or the default socket. */
export function dockerHostOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST?.trim() || DEFAULT_DOCKER_HOST;
}

export type EngineTarget = { socketPath: string } | { host: string; port: number; protocol: 'http' };

/** Connection options for an endpoint (unix socket or plain tcp), in the shape node:http and dockerode both take. */
export function engineTarget(endpoint: string): EngineTarget {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  if (endpoint.startsWith('/')) return { socketPath: endpoint };
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}
