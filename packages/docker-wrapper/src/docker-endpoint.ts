import { dockerHostOf, engineTarget } from '@ds01/events-core/engine';
import type { ParsedCommand } from './parse-args.js';

export { DEFAULT_DOCKER_HOST } from '@ds01/events-core/engine';

/** The daemon the real client would talk to without -H/--context: DOCKER_HOST or the default socket. */
export const envEndpoint = (env: NodeJS.ProcessEnv): string => dockerHostOf(env);

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
export const dockerodeOptions = engineTarget;
