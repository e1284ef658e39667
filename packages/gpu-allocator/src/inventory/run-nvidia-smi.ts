import { type ChildProcess, type ExecFileException, execFile } from 'node:child_process';
import { QUERY_FIELDS } from './parse-query.js';

/** nvidia-smi failed or is missing: nothing may be handed out (fails closed). */
export class InventoryError extends Error {
  override name = 'InventoryError';
}

export function nvidiaSmiPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_NVIDIA_SMI || 'nvidia-smi';
}

/** The inventory's query: every allocation asks it first. */
export const GPU_QUERY_ARGS = [`--query-gpu=${QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

function timeoutMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.DS01_NVIDIA_SMI_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 15_000;
}

/** nvidia-smi's answer on a host without GPUs (exit 6): an empty inventory, not a failure. */
const NO_DEVICES = /No devices were found/i;

interface Finished {
  stdout: string;
  stderr: string;
  error: ExecFileException | null;
}

interface Started {
  key: string;
  done: Promise<Finished>;
}

const keyOf = (bin: string, args: readonly string[]) => [bin, ...args].join('\0');

let early: Started | undefined;
const running = new Set<ChildProcess>();

/**
 * node's execFile rather than execa (the other bins' choice for nvidia-smi):
 * on `docker run --gpus` this process is on the critical path, and the query
 * starts before the rest of the bin has loaded (startEarlyGpuQuery), which
 * execa, itself some 30 ms of loading and set-up per start, cannot.
 */
function start(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): Started {
  let child!: ChildProcess;
  const done = new Promise<Finished>((resolve) => {
    child = execFile(
      bin,
      [...args],
      { env, timeout: timeoutMs(env), killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr), error }),
    );
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  return { key: keyOf(bin, args), done };
}

function interpret(bin: string, args: readonly string[], env: NodeJS.ProcessEnv, r: Finished): string | null {
  if (!r.error) return r.stdout;
  const { code, killed, signal } = r.error;
  if (code === 'ENOENT') throw new InventoryError(`${bin} not found (set DS01_NVIDIA_SMI to its path)`);
  if (code === 6 && NO_DEVICES.test(r.stdout)) return null;
  if (killed && signal === 'SIGKILL') throw new InventoryError(`${bin} ${args[0]} did not answer within ${timeoutMs(env) / 1000}s`);
  const said = `${r.stdout}\n${r.stderr}`.trim().split('\n')[0] ?? '';
  const how = typeof code === 'number' ? `exit ${code}` : (signal ?? code ?? '?');
  throw new InventoryError(`${bin} ${args[0]} failed (${how})${said ? `: ${said}` : ''}`);
}

/**
 * Starts the inventory's query now, for the run that is about to ask for it
 * (the allocator's session, on the wrapper's GPU create): a real nvidia-smi
 * takes a while to answer, and it then does so while the bin loads.
 */
export function startEarlyGpuQuery(env: NodeJS.ProcessEnv = process.env): void {
  early = start(nvidiaSmiPath(env), GPU_QUERY_ARGS, env);
}

/** Ends the queries still running: their answers are no longer wanted (a cancelled session), and the process need not wait for them. */
export function stopGpuQueries(): void {
  for (const child of running) {
    child.kill('SIGKILL');
    // Whatever it started may hold its output open: stop reading, so nothing waits for that either.
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

/** Runs nvidia-smi with `args`: its output, or null on a host without GPUs; an InventoryError when it fails. */
export async function runNvidiaSmi(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const bin = nvidiaSmiPath(env);
  let run = early;
  early = undefined;
  if (!run || run.key !== keyOf(bin, args)) run = start(bin, args, env);
  return interpret(bin, args, env, await run.done);
}
