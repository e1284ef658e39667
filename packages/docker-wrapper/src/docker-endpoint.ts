import type { ParsedCommand } from './parse-args.js';

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
