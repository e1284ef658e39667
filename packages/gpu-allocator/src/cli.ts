import type { Argv } from 'yargs';
import { allocate } from './commands/allocate.js';
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
  let command: (() => Promise<CommandResult>) | undefined;
  let usageError: string | undefined;
  const run = (fn: () => Promise<CommandResult>) => {
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
          .option('user', { type: 'string', demandOption: true, describe: 'Owner of the container' })
          .option('container', { type: 'string', demandOption: true, describe: 'Container name (allocation is idempotent per name)' })
          .option('count', { type: 'number', default: 1, coerce: positiveInt('count'), describe: 'Number of slots' })
          .option('prefer', { choices: ['full', 'mig'] as const, describe: 'Whole GPUs or MIG slices first' })
          .option('go-on-stdin', {
            type: 'boolean',
            default: false,
            describe:
              'Read nvidia-smi, Docker and the config, then decide only on a "go" line from stdin (end of input cancels; nothing changes)',
          }),
      (a) =>
        run(async () =>
          allocate(ctx(), { user: a.user, container: a.container, count: a.count, prefer: a.prefer, goOnStdin: a['go-on-stdin'] }),
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
  if (usageError) {
    if (wantsJson) process.stdout.write(`${JSON.stringify({ status: 'error', message: usageError, usage: true })}\n`);
    process.stderr.write(`ds01-gpu: ${usageError}\nRun ds01-gpu --help for usage.\n`);
    return 2;
  }
  if (!command) return 0; // --help
  try {
    return print(await command(), wantsJson);
  } catch (err) {
    return internalError(err, wantsJson);
  }
}
