import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { optionValues, type ParsedCommand, parseArgs } from '../parse-args.js';
import { type AllocateResult, GpuToolError, gpuCommand, loadAnswerValidators, validateAnswer } from './gpu-client.js';
import { adoptLauncherSession } from './launcher-session.js';

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
 * The two ends of an allocator session, whoever started the allocator: the
 * wrapper (a child process) or the launcher (FIFOs, launcher-session.ts).
 */
export interface SessionChannel {
  /** Sends one line (lost when the allocator is gone: its missing answer says why). */
  send(line: string): void;
  /** Ends the input (after an optional last line): the allocator reads end of input. */
  close(lastLine?: string): Promise<void>;
  /** The allocator's output as it comes. */
  onOutput(listener: (chunk: string) => void): void;
  /** Settles when the output has ended (the allocator is gone): its exit code, when known. */
  readonly ended: Promise<number | null>;
  /** Why the allocator could not be run (naming what was run), if it could not. */
  startError(): string | undefined;
  /** The end of what the allocator wrote on stderr. */
  stderrTail(): string;
  /** Stops waiting for the allocator: the wrapper may end before it does. */
  letGo(): void;
}

/**
 * The allocator as a child of the wrapper, started with node's own spawn
 * rather than execa: this spawn sits on the critical path of every
 * `docker run --gpus`, and importing and running execa there cost some 35 ms
 * of CPU that the allocator's start-up competes with (the real client is
 * spawned the same way, real-docker.ts).
 */
function spawnChannel(env: NodeJS.ProcessEnv): SessionChannel {
  const { file, prefix } = gpuCommand(env);
  let child: ChildProcessWithoutNullStreams;
  let spawnError: Error | undefined;
  const startError = () => (spawnError ? `cannot run ds01-gpu (${file}): ${spawnError.message}` : undefined);
  try {
    // Loaded only for a GPU create: most commands never spawn (hand-off.ts).
    const { spawn } = process.getBuiltinModule('node:child_process');
    child = spawn(file, [...prefix, 'allocate', '--stdin', '--json'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    spawnError = err as Error;
    return {
      send: () => {},
      close: async () => {},
      onOutput: () => {},
      ended: Promise.resolve(null),
      startError,
      stderrTail: () => '',
      letGo: () => {},
    };
  }
  child.on('error', (err) => {
    spawnError = err;
  });
  // An allocator that ended (or never started) closes its end: the answer, or its absence, says why.
  child.stdin.on('error', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  child.stdout.setEncoding('utf8');
  return {
    send: (line) => {
      child.stdin.write(line);
    },
    close: (lastLine) => new Promise<void>((resolve) => child.stdin.end(lastLine ?? '', () => resolve())),
    onOutput: (listener) => child.stdout.on('data', listener),
    ended: new Promise<number | null>((resolve) => {
      child.on('close', (code) => resolve(code));
      child.on('error', () => resolve(null));
    }),
    startError,
    stderrTail: () => stderr,
    letGo: () => {
      child.unref();
      for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    },
  };
}

/** The wrapper's own allocator session (when the launcher did not start one). */
export function startGpuSession(env: NodeJS.ProcessEnv): GpuSession {
  return sessionOver(spawnChannel(env));
}

/** The request/answer protocol over a channel: one request, its answer, then at most one bind. */
function sessionOver(channel: SessionChannel): GpuSession {
  let stdout = '';
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  const deliver = (line: string) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  };
  channel.onOutput((chunk) => {
    stdout += chunk;
    for (let nl = stdout.indexOf('\n'); nl >= 0; nl = stdout.indexOf('\n')) {
      deliver(stdout.slice(0, nl));
      stdout = stdout.slice(nl + 1);
    }
  });
  let closed = false;
  channel.ended.then(() => {
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
  let allocated: string | undefined;
  let asked = false;
  let ended = false;
  const session: GpuSession = {
    async allocate(request) {
      if (asked) throw new Error('a GPU session answers one request');
      asked = true;
      channel.send(`${JSON.stringify({ user: request.owner, container: request.name, count: request.count })}\n`);
      // Loaded while the allocator works, not after it has answered.
      loadAnswerValidators();
      const line = await nextLine();
      if (line === null) {
        const code = await channel.ended;
        const notStarted = channel.startError();
        if (notStarted) throw new GpuToolError(notStarted);
        const last = channel.stderrTail().trim().split('\n').pop() ?? '';
        const how = code === null ? 'ended' : `exited ${code}`;
        throw new GpuToolError(`ds01-gpu allocate ${how} without an answer${last ? `: ${last}` : ''}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new GpuToolError(`ds01-gpu allocate answered something that is not JSON: ${line.slice(0, 200)}`);
      }
      const answer = validateAnswer<AllocateResult>('allocate', json);
      if (answer.status === 'allocated') allocated = answer.reservation;
      else session.end();
      return answer;
    },
    async bind(reservation, containerId) {
      if (reservation !== allocated || closed) return false;
      allocated = undefined;
      ended = true;
      await channel.close(`${JSON.stringify({ bind: containerId })}\n`);
      channel.letGo();
      return true;
    },
    end() {
      allocated = undefined;
      if (ended) return;
      ended = true;
      void channel.close();
      channel.letGo();
    },
  };
  return session;
}

let early: GpuSession | undefined;

/**
 * Called by the bin before anything else loads. The launcher starts the
 * allocator of a command line that mentions --gpus itself and hands it over
 * (launcher-session.ts); else a command line that asks for GPUs on
 * run/create starts its allocator now, so the allocator's start-up runs
 * beside the wrapper's own instead of after it. A command refused later, or
 * one that turns out not to ask for GPUs, just ends the session.
 */
export function startEarlyGpuSession(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const handed = adoptLauncherSession(env);
  const wants = wantsGpus(parseArgs(argv));
  if (handed) {
    const session = sessionOver(handed);
    if (wants) early = session;
    else session.end();
  } else if (wants) early = startGpuSession(env);
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
