import type { Argv } from 'yargs';
import { allocate } from './commands/allocate.js';
import { allocateSession, RequestError, stdinLines } from './commands/allocate-session.js';
import { bind } from './commands/bind.js';
import { limits } from './commands/limits.js';
import { reconcile } from './commands/reconcile.js';
import { RELEASE_REASONS, release } from './commands/release.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { loadContext } from './context.js';
import type { CommandResult, ExitCode } from './result.js';
import type { ReleaseReason } from './state/types.js';

type YargsFactory = (args: string[]) => Argv;

function print(result: CommandResult, json: boolean): ExitCode {
  if (json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
  else process.stdout.write(`${result.lines.join('\n')}\n`);
  return result.code;
}

function internalError(err: unknown, json: boolean): ExitCode {
  const e = err as Error & { problems?: unknown };
  let message = e instanceof Error ? e.message : String(err);
  if (e?.name === 'ConfigError') message = `site config: ${message}`;
  else if ((e as { code?: string })?.code === 'ENOENT' && /docker|sock/i.test(message))
    message = `Docker is not reachable (${message}); check DOCKER_HOST`;
  else if ((e as { code?: string })?.code === 'ECONNREFUSED') message = `Docker is not reachable (${message}); check DOCKER_HOST`;
  if (json) process.stdout.write(`${JSON.stringify({ status: 'error', message })}\n`);
  process.stderr.write(`ds01-gpu: ${message}\n`);
  return 3;
}

function usage(message: string, json: boolean): ExitCode {
  if (json) process.stdout.write(`${JSON.stringify({ status: 'error', message, usage: true })}\n`);
  process.stderr.write(`ds01-gpu: ${message}\nRun ds01-gpu --help for usage.\n`);
  return 2;
}

/** `allocate --stdin`: the session prints its answers itself (commands/allocate-session.ts). */
async function session(json: boolean): Promise<ExitCode> {
  // The wrapper reads each answer as soon as it is printed; it may be gone before the bind's (EPIPE).
  process.stdout.on('error', () => {});
  // The session binds after the wrapper has ended, in the user's process group: a terminal closed right
  // after `docker run -d --gpus` hangs it up, and the bind it was told to make would be lost (the
  // reservation left pending). The session ends at the end of its input, hung up or not.
  process.on('SIGHUP', () => {});
  const input = stdinLines();
  try {
    return await allocateSession(loadContext(), { nextLine: input.nextLine, emit: (r) => print(r, json) });
  } finally {
    input.close();
  }
}

/** A command that threw: a bad request on stdin is a usage error, anything else an internal one. */
function failed(err: unknown, json: boolean): ExitCode {
  return err instanceof RequestError ? usage(err.message, json) : internalError(err, json);
}

export async function runSession(): Promise<ExitCode> {
  try {
    return await session(true);
  } catch (err) {
    return failed(err, true);
  }
}

const positiveInt = (flag: string) => (v: unknown) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number of 1 or more (got ${JSON.stringify(v)})`);
  return n;
};

/** Parses argv and runs one command; returns the exit code (0 ok, 1 refused, 2 usage, 3 internal error). */
export async function main(argv: string[], factory: YargsFactory): Promise<ExitCode> {
  const wantsJson = argv.includes('--json');
  // The command runs only once the whole command line has been accepted: yargs calls a command's
  // handler even after a validation failure (an unknown flag) when, as here, `fail` does not throw.
  // A command returns its answer, or prints its answers itself (allocate --stdin) and returns the exit code.
  let command: (() => Promise<CommandResult | ExitCode>) | undefined;
  let usageError: string | undefined;
  const run = (fn: () => Promise<CommandResult | ExitCode>) => {
    command = fn;
  };
  const ctx = () => loadContext();
  const parser = factory(argv)
    .scriptName('ds01-gpu')
    .usage('$0 <command> [options]\n\nGPU and MIG allocation for ds01 containers: per-user limits, holds after stop, release.')
    .option('json', { type: 'boolean', default: false, describe: 'Print pure JSON on stdout' })
    .command(
      'allocate',
      'Reserve GPU/MIG slots for a container about to be created',
      (y) =>
        y
          .option('user', { type: 'string', describe: 'Owner of the container (required without --stdin)' })
          .option('container', { type: 'string', describe: 'Container name, allocation is idempotent per name (required without --stdin)' })
          .option('count', { type: 'number', coerce: positiveInt('count'), describe: 'Number of slots (default 1)' })
          .option('prefer', { choices: ['full', 'mig'] as const, describe: 'Whole GPUs or MIG slices first' })
          .option('stdin', {
            type: 'boolean',
            default: false,
            describe:
              'Read nvidia-smi, Docker and the config at once, then the request from stdin as one JSON line {"user","container","count","prefer"}; after the answer, an optional line {"bind":"<container id>"} binds the new container. End of input before the request cancels: nothing changes.',
          })
          .check((a) => {
            const given = ['user', 'container', 'count', 'prefer'].filter((k) => a[k] !== undefined);
            if (a.stdin && given.length > 0)
              throw new Error(`--stdin reads the request from standard input: leave out --${given.join(', --')}`);
            const missing = a.stdin ? [] : ['user', 'container'].filter((k) => a[k] === undefined);
            if (missing.length > 0) throw new Error(`Missing required argument: ${missing.join(', ')}`);
            return true;
          }),
      (a) =>
        run(async () =>
          a.stdin
            ? session(wantsJson)
            : allocate(ctx(), { user: a.user as string, container: a.container as string, count: a.count ?? 1, prefer: a.prefer }),
        ),
    )
    .command(
      'check',
      'What allocate would answer, changing nothing',
      (y) =>
        y
          .option('user', { type: 'string', demandOption: true })
          .option('container', { type: 'string' })
          .option('count', { type: 'number', default: 1, coerce: positiveInt('count') })
          .option('prefer', { choices: ['full', 'mig'] as const }),
      (a) => run(async () => allocate(ctx(), { user: a.user, container: a.container, count: a.count, prefer: a.prefer, checkOnly: true })),
    )
    .command(
      'bind',
      'Bind a reservation to the container created for it',
      (y) => y.option('reservation', { type: 'string', demandOption: true }).option('container-id', { type: 'string', demandOption: true }),
      (a) => run(async () => bind(ctx(), a.reservation, a['container-id'])),
    )
    .command(
      'release',
      "Give a container's GPUs back",
      (y) =>
        y
          .option('container', { type: 'string', demandOption: true, describe: 'Container name or id' })
          .option('reason', { choices: RELEASE_REASONS, default: 'manual' as ReleaseReason }),
      (a) => run(async () => release(ctx(), a.container, a.reason as ReleaseReason)),
    )
    .command(
      'start',
      'Before docker start|restart: reactivate a held allocation (refused if revoked)',
      (y) => y.option('container-id', { type: 'string', demandOption: true }),
      (a) => run(async () => start(ctx(), a['container-id'])),
    )
    .command(
      'status',
      'Who holds which GPU and MIG slot',
      (y) => y.option('container', { type: 'string', describe: 'Only allocations of this container (name or id)' }),
      (a) => run(async () => status(ctx(), a.container)),
    )
    .command(
      'reconcile',
      'Sync the state with Docker (removed, stopped, expired reservations)',
      (y) => y.option('dry-run', { type: 'boolean', default: false }),
      (a) => run(async () => reconcile(ctx(), { dryRun: a['dry-run'], expireHolds: false })),
    )
    .command(
      'release-stale',
      'Reconcile and release holds that have run out (cleanup job)',
      (y) => y.option('dry-run', { type: 'boolean', default: false }),
      (a) => run(async () => reconcile(ctx(), { dryRun: a['dry-run'], expireHolds: true })),
    )
    .command(
      'limits',
      "A user's resolved GPU limits and where each comes from",
      (y) =>
        y
          .option('user', { type: 'string', demandOption: true })
          .option('type', { type: 'string', default: 'atomic', describe: 'Container type (for the hold)' }),
      (a) => run(async () => limits(ctx(), a.user, a.type)),
    )
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg || err?.message || 'invalid arguments';
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    usageError ??= err instanceof Error ? err.message : String(err);
  }
  if (usageError) return usage(usageError, wantsJson);
  if (!command) return 0; // --help
  try {
    const result = await command();
    return typeof result === 'number' ? result : print(result, wantsJson);
  } catch (err) {
    return failed(err, wantsJson);
  }
}
