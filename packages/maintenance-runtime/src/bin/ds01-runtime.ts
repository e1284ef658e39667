#!/usr/bin/env node
import { ConfigError, loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { adminPolicyOf, getCallerIdentity } from '@ds01/events-core/identity';
import { withJobLock } from '@ds01/events-core/jobs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { enforceRuntime, type RunReport } from '../enforce-runtime.js';
import { summaryLine } from '../report-lines.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_ERROR = 3;

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Log lines carry a UTC time: cron appends them to /var/log/ds01/runtime.log. */
function line(text: string): string {
  const shown = text.startsWith('error:') ? paint(31, text) : text.startsWith('warning:') ? paint(33, text) : text;
  return `${new Date().toISOString()} ds01-runtime: ${shown}\n`;
}

function fail(code: number, message: string, json: boolean): never {
  if (json) process.stdout.write(`${JSON.stringify({ status: 'error', message })}\n`);
  process.stderr.write(`ds01-runtime: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('ds01-runtime')
    .usage(
      '$0 [options]\n\nStops containers that ran longer than their owner’s max_runtime_h (counted across restarts unless runtime_mode is since_start), after a first warning at 75% and a final warning at 90% that goes out at least policies.warning_lead_m minutes before the stop. Run from cron every 5 minutes as root; exit 0 when every action succeeded (or another run was in progress), 1 when one failed, 2 for bad usage, 3 for a configuration or Docker error.',
    )
    .option('dry-run', {
      type: 'boolean',
      default: false,
      describe: 'change nothing (no stop, notice, event or state); print what would be done and why',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'print a JSON report of every container considered (and nothing else on stdout)',
    })
    .option('name-filter', {
      type: 'string',
      requiresArg: true,
      describe: 'only containers whose name matches (Docker’s name filter: substring or regex)',
    })
    .option('include-cpu-only', {
      type: 'boolean',
      default: false,
      describe: 'limit containers without GPUs too (default: GPU containers only)',
    })
    .option('verbose', { type: 'boolean', alias: 'v', default: false, describe: 'a line for every container, not only for actions' })
    .example('$0 --dry-run --verbose', 'what the next run would do, container by container')
    .example('$0 --json --name-filter alice-', "a JSON report for alice's containers")
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      process.stderr.write(`ds01-runtime: ${err?.message ?? msg}\nRun 'ds01-runtime --help' for usage.\n`);
      process.exit(EXIT_USAGE);
    })
    .parseAsync();

  const json = argv.json;
  const dryRun = argv['dry-run'];
  const nameFilter = argv['name-filter'];
  if (nameFilter !== undefined && nameFilter.trim() === '') fail(EXIT_USAGE, '--name-filter: give a non-empty pattern', json);

  let config: SiteConfig;
  try {
    config = loadSiteConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(EXIT_ERROR, `configuration error, nothing was done:\n${err.message}`, json);
    throw err;
  }

  const caller = getCallerIdentity(adminPolicyOf(config.raw));
  if (!dryRun && !caller.isAdmin) {
    fail(
      EXIT_FAILED,
      `stopping other users' containers needs root or a ds01 admin (you are ${caller.user}); --dry-run shows what a run would do`,
      json,
    );
  }

  const log = json ? () => {} : (text: string) => process.stdout.write(line(text));
  const progress = process.stderr.isTTY && !json ? (text: string) => process.stderr.write(`ds01-runtime: ${text}\n`) : undefined;
  const run = async () => {
    // Loaded only for a run that goes ahead: a refused or stepped-aside run stays cheap.
    const { default: Docker } = await import('dockerode');
    return enforceRuntime({
      docker: new Docker(),
      config,
      dryRun,
      includeCpuOnly: argv['include-cpu-only'],
      verbose: argv.verbose,
      log,
      ...(progress ? { progress } : {}),
      ...(nameFilter ? { nameFilter } : {}),
    });
  };

  let report: RunReport;
  if (dryRun) {
    // A dry run writes nothing, not even the lock, so anyone may run it beside the real job.
    report = await run();
  } else {
    const locked = await withJobLock('runtime', run);
    if (!locked.ran) {
      if (json) process.stdout.write(`${JSON.stringify({ status: 'skipped', message: locked.message })}\n`);
      else process.stdout.write(line(locked.message));
      return;
    }
    report = locked.result;
  }

  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(line(summaryLine(report)));
  process.exitCode = report.failures > 0 ? EXIT_FAILED : 0;
}

main().catch((err: unknown) => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const unreachable = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES';
  const message = unreachable
    ? `cannot reach the Docker daemon at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${code}); nothing was changed`
    : err instanceof Error
      ? err.message
      : String(err);
  const json = process.argv.includes('--json');
  fail(EXIT_ERROR, unreachable ? message : `internal error, the run stopped: ${message}`, json);
});
