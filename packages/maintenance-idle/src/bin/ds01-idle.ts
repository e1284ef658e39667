#!/usr/bin/env node
import { closeEventLogs } from '@ds01/events-core';
import { ConfigError, loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { withJobLock } from '@ds01/events-core/jobs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

// The job's modules (Docker client, samplers) load only when a run happens, so
// --help and usage errors answer at once.
const JOB = 'ds01-idle';
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_CANNOT_RUN = 3;

function usageError(message: string): never {
  process.stderr.write(`${JOB}: ${message}\nRun '${JOB} --help' for usage.\n`);
  process.exit(EXIT_USAGE);
}

const stamp = () => new Date().toISOString();

async function main(): Promise<number> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName(JOB)
    .usage(
      `$0 [options]\n\nOne run of the idle job (cron runs it every 5 minutes, as root): samples every running GPU container's CPU, network, GPU and exec activity, warns owners of idle ones twice, and stops those idle past their idle_timeout_h once the final warning has been out for policies.warning_lead_m.`,
    )
    .option('dry-run', {
      type: 'boolean',
      default: false,
      describe: 'change nothing (no stop, no notice, no state written); print what would be done and why',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'print a JSON report of every container considered (pure JSON on stdout)',
    })
    .option('name-filter', {
      type: 'string',
      describe: "only containers whose name matches this regular expression (like docker's name filter)",
    })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'one line per container, not only per action' })
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => usageError(msg || err?.message || 'invalid arguments'))
    .parse();

  const nameFilter = argv.nameFilter;
  if (nameFilter !== undefined) {
    if (nameFilter === '') usageError('--name-filter: the pattern is empty');
    try {
      // Docker matches it as a (Go) regular expression; catch the obvious mistakes here.
      new RegExp(nameFilter);
    } catch (err) {
      usageError(`--name-filter ${JSON.stringify(argv.nameFilter)}: not a valid regular expression (${(err as Error).message})`);
    }
  }
  if (process.getuid?.() !== 0 && !argv.dryRun) {
    process.stderr.write(
      `${JOB}: must run as root (it stops other users' containers and keeps state in /var/lib/ds01); try --dry-run to preview\n`,
    );
    return EXIT_CANNOT_RUN;
  }

  let config: SiteConfig;
  try {
    config = loadSiteConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${JOB}: configuration error; nothing was done:\n${err.message}\n`);
      return EXIT_CANNOT_RUN;
    }
    throw err;
  }

  const { describeReport, runIdle } = await import('../run-idle.js');
  const log = (line: string) => process.stdout.write(`[${stamp()}] ${JOB}: ${line}\n`);
  const run = () =>
    runIdle(
      {
        dryRun: argv.dryRun,
        nameFilter,
        progress: (line) => process.stderr.write(`${line}\n`),
      },
      config,
    );
  // A dry run only reads, so it does not wait for or block a real run.
  const outcome = argv.dryRun ? { ran: true as const, result: await run() } : await withJobLock('idle', run);
  if (!outcome.ran) {
    if (argv.json) process.stdout.write(`${JSON.stringify({ job: JOB, skipped: true, message: outcome.message })}\n`);
    else log(outcome.message);
    return 0;
  }
  const report = outcome.result;
  if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else for (const line of describeReport(report, argv.verbose)) log(line);
  return report.failures > 0 ? EXIT_FAILED : 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    const e = err as Error & { code?: string };
    const hint =
      e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES' ? ' (is Docker running, and DOCKER_HOST right?)' : '';
    process.stderr.write(`${JOB}: ${e.name === 'LockTimeoutError' ? '' : 'error: '}${e.message}${hint}; the run was abandoned\n`);
    process.exitCode = EXIT_CANNOT_RUN;
  })
  .finally(() => closeEventLogs());
