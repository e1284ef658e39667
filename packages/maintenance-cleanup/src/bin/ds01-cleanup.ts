#!/usr/bin/env node
import { closeEventLogs } from '@ds01/events-core';
import { ConfigError, loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { adminPolicyOf, getCallerIdentity } from '@ds01/events-core/identity';
import { type LabelMatcher, parseLabelMatcher, withJobLock } from '@ds01/events-core/jobs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { messageOf } from '../docker-errors.js';
import { type CleanupOptions, type CleanupReport, type Command, JOB, runCleanup } from '../run-cleanup.js';
import { summaryLine } from '../summary.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_ERROR = 3;

interface Args {
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  nameFilter?: string;
  includeUnmanaged: boolean;
  excludeLabel: string[];
}

function usageError(message: string): never {
  process.stderr.write(`ds01-cleanup: ${message}\nRun 'ds01-cleanup --help' for the options.\n`);
  process.exit(EXIT_USAGE);
}

async function main(command: Command, args: Args): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const fail = (message: string, code: number): number => {
    if (args.json) out(JSON.stringify({ status: 'error', message }));
    else process.stderr.write(`ds01-cleanup: ${message}\n`);
    return code;
  };

  if (args.nameFilter !== undefined && args.nameFilter.trim() === '') usageError('--name-filter: give a non-empty pattern');
  const excludeLabels: LabelMatcher[] = [];
  for (const text of args.excludeLabel) {
    try {
      excludeLabels.push(parseLabelMatcher(text));
    } catch (err) {
      usageError(`--exclude-label: ${(err as Error).message}`);
    }
  }

  let config: SiteConfig;
  try {
    config = loadSiteConfig();
  } catch (err) {
    if (err instanceof ConfigError) return fail(`configuration error (nothing was done):\n${err.message}`, EXIT_ERROR);
    return fail(`cannot read the configuration: ${messageOf(err)}`, EXIT_ERROR);
  }
  if (args.verbose) for (const w of config.warnings) process.stderr.write(`ds01-cleanup: config warning: ${w}\n`);

  let identity: ReturnType<typeof getCallerIdentity>;
  try {
    identity = getCallerIdentity(adminPolicyOf(config.raw));
  } catch (err) {
    return fail(messageOf(err), EXIT_USAGE);
  }
  if (!identity.isAdmin && !args.dryRun) {
    return fail(
      `removing containers is for root or an admin, and ${identity.user} is neither; run it with sudo, or add --dry-run to see what it would do`,
      EXIT_FAILED,
    );
  }

  // Loaded only now: dockerode is the slowest import, and help, usage and config errors do not need it.
  const { openDocker } = await import('../docker-client.js');
  const docker = openDocker();
  try {
    await docker.ping();
  } catch (err) {
    return fail(`cannot reach Docker (${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}): ${messageOf(err)}`, EXIT_ERROR);
  }

  const opts: CleanupOptions = {
    command,
    dryRun: args.dryRun,
    includeUnmanaged: args.includeUnmanaged,
    excludeLabels,
    ...(args.nameFilter ? { nameFilter: args.nameFilter } : {}),
  };
  const log = (line: string, level?: 'verbose') => {
    if (level === 'verbose' && !args.verbose) return;
    if (args.json) {
      if (args.verbose) process.stderr.write(`${line}\n`);
    } else out(line);
  };

  let report: CleanupReport;
  if (args.dryRun) {
    // A dry run writes nothing, not even the lock, so it may run beside a real one.
    report = await runCleanup(docker, config, opts, log);
  } else {
    const locked = await withJobLock(JOB, () => runCleanup(docker, config, opts, log));
    if (!locked.ran) {
      if (args.json) out(JSON.stringify({ status: 'skipped', message: locked.message }));
      else out(locked.message);
      return 0;
    }
    report = locked.result;
  }
  if (args.json) out(JSON.stringify(report, null, 2));
  else out(summaryLine(report));
  return report.failures > 0 ? EXIT_FAILED : 0;
}

function run(command: Command) {
  return async (parsed: unknown) => {
    const argv = parsed as Args;
    let code: number;
    try {
      code = await main(command, argv);
    } catch (err) {
      process.stderr.write(`ds01-cleanup: internal error: ${(err as Error)?.stack ?? err}\n`);
      if (argv.json) process.stdout.write(`${JSON.stringify({ status: 'error', message: messageOf(err) })}\n`);
      code = EXIT_ERROR;
    }
    await closeEventLogs();
    process.exitCode = code;
  };
}

await yargs(hideBin(process.argv))
  .scriptName('ds01-cleanup')
  .usage(
    '$0 <gpu|containers|all> [options]\n\nRemoves stale containers and releases stale GPU allocations (run from cron as `ds01-cleanup all`).',
  )
  .command(
    'gpu',
    'Remove stopped GPU containers past their GPU hold, release stale allocations, report orphan GPU processes and allocations',
    {},
    run('gpu'),
  )
  .command('containers', 'Remove created-never-started, exited and dead containers past their limits', {}, run('containers'))
  .command('all', 'Both, from one container listing (the cron entry)', {}, run('all'))
  .option('dry-run', { type: 'boolean', default: false, describe: 'Change nothing; print what would be done and why' })
  .option('json', { type: 'boolean', default: false, describe: 'Print a JSON report of every container considered (only JSON on stdout)' })
  .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Also print containers kept and why' })
  .option('name-filter', {
    type: 'string',
    describe: "Only containers whose name matches (Docker's name filter: a substring or regular expression, e.g. alice-)",
  })
  .option('include-unmanaged', { type: 'boolean', default: false, describe: 'Also consider containers without ds01.managed=true' })
  .option('exclude-label', {
    type: 'string',
    array: true,
    default: [],
    describe: 'Leave out containers with this label (key or key=value); repeatable',
  })
  .demandCommand(1, 'Name a subcommand: gpu, containers or all.')
  .strict()
  .help()
  .version(false)
  .fail((msg, err) => {
    if (err) throw err;
    usageError(msg);
  })
  .parseAsync();
