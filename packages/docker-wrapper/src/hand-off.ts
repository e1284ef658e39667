import fs from 'node:fs';
import { shellQuote as quote } from './shell-quote.js';

/**
 * Hand-off: for every command but run/create, the launcher (launcher.ts) does
 * not exec Node; it runs the wrapper with this variable naming a pipe, and
 * once the wrapper approves the command, execs the real client itself with
 * what the wrapper wrote there. So the real client is the very process the
 * caller started (its pid, its signals, every fd the caller gave it, its
 * exit), Node is gone before it runs, and Node never forks a copy of itself
 * to start it (5–7 ms of every checked command here).
 */
export const HANDOFF_FD_ENV = 'DS01_HANDOFF_FD';

interface HandOffRequest {
  fd: number;
  /** The launcher's environment and arguments: what its exec passes on unless told otherwise. */
  env: Readonly<NodeJS.ProcessEnv>;
  argv: readonly string[];
}

let request: HandOffRequest | undefined;

/**
 * Run first by the bin, before anything touches the environment: takes the
 * variable out of `env` (nothing the wrapper runs inherits it) and keeps the
 * launcher's environment to compare against.
 */
export function takeHandOffRequest(env: NodeJS.ProcessEnv, argv: readonly string[]): void {
  const raw = env[HANDOFF_FD_ENV];
  if (raw === undefined) return;
  delete env[HANDOFF_FD_ENV];
  if (!/^[3-9]$/.test(raw)) return;
  const fd = Number(raw);
  // The launcher's is a pipe: anything else there (the bin run by hand with the variable set) is not ours to write to.
  try {
    if (!fs.fstatSync(fd).isFIFO()) return;
  } catch {
    return;
  }
  request = { fd, env: { ...env }, argv: [...argv] };
}

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The shell the launcher evals to run `real args` in `env`, starting from the
 * launcher's own environment and arguments; null when sh cannot say it (a
 * changed variable whose name is not a shell name). Unchanged arguments stay
 * the launcher's "$@", byte for byte (Node's argv is decoded as UTF-8).
 */
export function handOffScript(
  real: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  from: { env: Readonly<NodeJS.ProcessEnv>; argv: readonly string[] },
): string | null {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || from.env[name] === value) continue;
    if (!SHELL_NAME.test(name)) return null;
    lines.push(`export ${name}=${quote(value)}`);
  }
  for (const name of Object.keys(from.env)) {
    if (env[name] !== undefined) continue;
    if (!SHELL_NAME.test(name)) return null;
    lines.push(`unset ${name}`);
  }
  const same = args.length === from.argv.length && args.every((a, i) => a === from.argv[i]);
  if (!same) lines.push(`set -- ${args.map(quote).join(' ')}`);
  lines.push(`exec ${quote(real)} "$@"`);
  return `${lines.join('\n')}\n`;
}

/** Whether the launcher is waiting for what to exec. */
export function handOffWanted(): boolean {
  return request !== undefined;
}

/**
 * Writes the launcher its answer: true once it has it, false when nothing
 * reached it and it is still there (the caller decides what to do instead).
 * Throws when the launcher has gone (a pipe fails without a reader) or has
 * part of an answer: it must not be answered twice.
 */
function answer(text: string): boolean {
  const { fd } = request!;
  request = undefined;
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written);
    fs.closeSync(fd);
  } catch (err) {
    if (written === 0 && (err as NodeJS.ErrnoException).code !== 'EPIPE') return false;
    throw err;
  }
  return true;
}

/**
 * Hands `real args` (in `env`) to the launcher, when it asked for that:
 * true when the launcher now has it, and the wrapper only has to exit.
 * False (the wrapper runs it itself) when nothing asked, sh cannot express
 * the environment, or the pipe is not open (the bin run by hand with the
 * variable set).
 */
export function handOff(real: string, args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (!request) return false;
  const script = handOffScript(real, args, env, request);
  return script !== null && answer(script);
}

/**
 * The launcher runs the wrapper in the background, so that Node's exit
 * overlaps the real client's start, and learns how the wrapper ended from
 * this: its exit status, when it refused, answered itself or ran the client
 * itself. Nothing to do after a hand-off.
 */
export function endHandOff(code: number): void {
  if (!request) return;
  try {
    answer(`exit ${code}\n`);
  } catch {
    // The launcher has gone, or was never there: nobody to tell.
  }
}
