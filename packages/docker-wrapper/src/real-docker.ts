import fs from 'node:fs';

export class WrapperLoopError extends Error {
  override name = 'WrapperLoopError';
}

/** The real docker client: DS01_REAL_DOCKER, else /usr/bin/docker. */
export function realDockerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_REAL_DOCKER?.trim() || '/usr/bin/docker';
}

const ownFiles = (self: string[]) => new Set(self.map((p) => safeRealpath(p)).filter((p): p is string => p !== undefined));

function safeRealpath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Marks the generated launcher and this bin, so a real-docker setting that points back at them is caught. */
export const WRAPPER_MARKER = 'ds01-docker-wrapper';

/**
 * The real client, checked: it must exist and must not be this wrapper (or
 * its launcher), which would call itself for ever.
 */
export function resolveRealDocker(env: NodeJS.ProcessEnv = process.env, selfFiles: string[] = [process.argv[1] ?? '']): string {
  const configured = realDockerPath(env);
  const real = safeRealpath(configured);
  if (!real)
    throw new WrapperLoopError(`the real docker client ${configured} does not exist (set DS01_REAL_DOCKER or install docker's client)`);
  if (ownFiles(selfFiles).has(real) || looksLikeWrapper(real)) {
    throw new WrapperLoopError(
      `the real docker client ${configured} is this wrapper (${real}): set DS01_REAL_DOCKER to docker's own client`,
    );
  }
  return real;
}

/** A small script that mentions the marker is our launcher; the real client is a large binary. */
function looksLikeWrapper(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (st.size > 64 * 1024) return false;
    return fs.readFileSync(file, 'utf8').includes(WRAPPER_MARKER);
  } catch {
    return false;
  }
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the real client with our stdio, as if exec'd: signals sent to us go to
 * it (a terminal's Ctrl-C reaches it through the process group anyway; the
 * forward covers `kill <pid>`). Resolves when it ends.
 */
export function runReal(real: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    // Loaded here, not at start: behind the launcher (hand-off.ts) most commands never spawn.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(real, [...args], { stdio: 'inherit', env, argv0: 'docker' });
    const handlers = new Map<string, () => void>();
    for (const sig of FORWARDED) {
      const h = () => {
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const done = (result: RunResult) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(result);
    };
    child.on('error', (err) => {
      process.stderr.write(`ds01: cannot run ${real}: ${err.message}\n`);
      done({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => done({ code, signal }));
  });
}

/** A shell's status for how the child ended: its code, or 128 + the signal's number. */
export function exitStatus(result: RunResult): number {
  if (!result.signal) return result.code ?? 1;
  // node:os only when a signal ended it: not loaded by every command.
  return 128 + (process.getBuiltinModule('node:os').constants.signals[result.signal] ?? 1);
}

/** Ends this process the way the child ended: same exit code, or the same signal re-raised. */
export function exitLike(result: RunResult): never {
  if (result.signal) {
    process.removeAllListeners(result.signal);
    try {
      process.kill(process.pid, result.signal);
    } catch {
      /* fall through to the shell convention */
    }
  }
  // Its code; or, for a signal whose default action does not end the process (or one our parent ignored), 128 + its number.
  process.exit(exitStatus(result));
}
