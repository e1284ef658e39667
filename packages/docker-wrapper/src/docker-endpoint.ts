import type { ParsedCommand } from './parse-args.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The daemon the real client would talk to without -H/--context: DOCKER_HOST or the default socket. */
export function envEndpoint(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST?.trim() || DEFAULT_DOCKER_HOST;
}

/** `-H`/`--host` values given before the verb. */
export function hostFlags(parsed: ParsedCommand): string[] {
  return parsed.globals.filter((g) => (g.flag === '-H' || g.flag === '--host') && g.value !== undefined).map((g) => g.value!);
}

/** `--context`/`-c` value given before the verb. */
export function contextFlag(parsed: ParsedCommand): string | undefined {
  return parsed.globals.find((g) => g.flag === '--context' || g.flag === '-c')?.value;
}

const norm = (h: string) => h.replace(/^unix:\/\//, '').replace(/\/+$/, '');

export function sameEndpoint(a: string, b: string): boolean {
  return norm(a) === norm(b);
}

/** dockerode connection options for an endpoint (unix socket or plain tcp). */
export function dockerodeOptions(endpoint: string): { socketPath: string } | { host: string; port: number; protocol: 'http' } {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  if (endpoint.startsWith('/')) return { socketPath: endpoint };
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}
