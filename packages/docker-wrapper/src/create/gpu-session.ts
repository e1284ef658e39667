import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { optionValues, type ParsedCommand, parseArgs } from '../parse-args.js';
import { type AllocateResult, GpuToolError, gpuCommand, validateAnswer } from './gpu-client.js';

/**
 * One `ds01-gpu allocate --stdin` for one GPU create: started before the
 * wrapper has checked anything, told what to allocate once the checks
 * pass, and left to bind the new container after the wrapper is gone (see
 * the allocator's commands/allocate-session.ts for the protocol).
 */
export interface GpuSession {
  /** The allocator's answer for this request (asked at most once). */
  allocate(request: { owner: string; name: string; count: number }): Promise<AllocateResult>;
  /**
   * Has the session's allocator bind `reservation` to the container and end,
   * without waiting for it. False when the reservation is not this
   * session's (a later attempt made it): the caller binds another way.
   */
  bind(reservation: string, containerId: string): Promise<boolean>;
  /** Nothing (more) to do: an allocator still waiting for the request ends without reserving or logging anything. */
  end(): void;
}

/**
 * Started with node's own spawn rather than execa: this spawn sits on the
 * critical path of every `docker run --gpus`, and importing and running
 * execa there cost some 35 ms of CPU that the allocator's start-up competes
 * with (the real client is spawned the same way, real-docker.ts).
 */
export function startGpuSession(env: NodeJS.ProcessEnv): GpuSession {
  const { file, prefix } = gpuCommand(env);
  let child: ChildProcessWithoutNullStreams;
  let spawnError: Error | undefined;
  try {
    child = spawn(file, [...prefix, 'allocate', '--stdin', '--json'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    spawnError = err as Error;
    return {
      allocate: () => Promise.reject(new GpuToolError(`cannot run ds01-gpu (${file}): ${spawnError?.message}`)),
      bind: async () => false,
      end: () => {},
    };
  }
  child.on('error', (err) => {
    spawnError = err;
  });
  // An allocator that ended (or never started) closes its end: the answer, or its absence, says why.
  child.stdin.on('error', () => {});
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  const deliver = (line: string) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (let nl = stdout.indexOf('\n'); nl >= 0; nl = stdout.indexOf('\n')) {
      deliver(stdout.slice(0, nl));
      stdout = stdout.slice(nl + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  let closed = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  exited.then(() => {
    closed = true;
    // A last answer without its newline still counts.
    if (stdout.trim() !== '') deliver(stdout);
    stdout = '';
    for (const w of waiting.splice(0)) w(null);
  });
  const nextLine = (): Promise<string | null> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (closed) return Promise.resolve(null);
    return new Promise((resolve) => waiting.push(resolve));
  };
  // The wrapper ends when the real client does, not when the allocator does.
  const letGo = () => {
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  };
  let allocated: string | undefined;
  let asked = false;
  return {
    async allocate(request) {
      if (asked) throw new Error('a GPU session answers one request');
      asked = true;
      child.stdin.write(`${JSON.stringify({ user: request.owner, container: request.name, count: request.count })}\n`);
      const line = await nextLine();
      if (line === null) {
        const code = await exited;
        if (spawnError) throw new GpuToolError(`cannot run ds01-gpu (${file}): ${spawnError.message}`);
        const last = stderr.trim().split('\n').pop() ?? '';
        throw new GpuToolError(`ds01-gpu allocate exited ${code} without an answer${last ? `: ${last}` : ''}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new GpuToolError(`ds01-gpu allocate answered something that is not JSON: ${line.slice(0, 200)}`);
      }
      const answer = validateAnswer<AllocateResult>('allocate', json);
      if (answer.status === 'allocated') allocated = answer.reservation;
      else this.end();
      return answer;
    },
    async bind(reservation, containerId) {
      if (reservation !== allocated || closed) return false;
      allocated = undefined;
      await new Promise<void>((resolve) => child.stdin.end(`${JSON.stringify({ bind: containerId })}\n`, () => resolve()));
      letGo();
      return true;
    },
    end() {
      allocated = undefined;
      child.stdin.end();
      letGo();
    },
  };
}

let early: GpuSession | undefined;

/**
 * Called by the bin before anything else loads: a command line that asks for
 * GPUs on run/create starts its allocator now, so the allocator's start-up
 * runs beside the wrapper's own instead of after it. A command refused later
 * just ends the session.
 */
export function startEarlyGpuSession(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (wantsGpus(parseArgs(argv))) early = startGpuSession(env);
}

/** A run/create (top level or `container …`) with --gpus before the image. */
export function wantsGpus(parsed: ParsedCommand): boolean {
  return !parsed.help && parsed.spec?.kind === 'create' && optionValues(parsed.options, '--gpus').length > 0;
}

/** The session the bin started, handed out once. */
export function takeEarlyGpuSession(): GpuSession | undefined {
  const s = early;
  early = undefined;
  return s;
}
