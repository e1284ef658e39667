#!/usr/bin/env node
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runDoctor } from '../doctor/run-doctor.js';
import { formatDoctorReport, formatInstallReport, styleFor } from '../format-report.js';
import { install } from '../install.js';
import { isRoot } from '../owners.js';
import { uninstall } from '../uninstall.js';

// apps/install/dist/bin/ds01-install.js → the checkout root.
const defaultSource = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function usage(msg: string): never {
  process.stderr.write(`ds01-install: ${msg}\nRun ds01-install --help for usage.\n`);
  process.exit(2);
}

function resolvePrefix(p: unknown): string {
  if (p === undefined) return '/';
  if (typeof p !== 'string' || p === '') usage(`--prefix needs a directory (got ${JSON.stringify(p)})`);
  return path.resolve(p);
}

async function main(): Promise<number> {
  let exitCode = 0;
  await yargs(hideBin(process.argv))
    .scriptName('ds01-install')
    .usage(
      'Usage: ds01-install [--prefix DIR] [--uninstall] [--dry-run] [--json]\n       ds01-install doctor [--prefix DIR] [--json]\n\nInstalls ds01 on this host (run as root): the commands in /usr/local/bin, with docker as the launcher in front of ds01-docker (pass-through commands go straight to the real client: DS01_REAL_DOCKER, default /usr/bin/docker), the maintenance cron entries, log rotation, /var/log/ds01 and /var/lib/ds01, the sudo rule for ds01-gpu, the watcher service and an example /etc/ds01/resource-limits.yaml when none exists. Running it again changes nothing; --uninstall removes exactly what it installed.',
    )
    .option('prefix', { type: 'string', describe: 'install into this directory tree instead of / (packaging, tests); nothing is enabled' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON report on stdout, nothing else' })
    .command(
      '$0',
      'install (or with --uninstall, remove) ds01',
      (y) =>
        y
          .option('uninstall', {
            type: 'boolean',
            default: false,
            describe: 'remove what the install manifest lists, restoring what was there before',
          })
          .option('dry-run', { type: 'boolean', default: false, describe: 'say what would change, change nothing' })
          .option('source', {
            type: 'string',
            describe: 'the built ds01 checkout to install from',
            default: defaultSource,
            defaultDescription: 'this checkout',
          }),
      async (argv) => {
        const prefix = resolvePrefix(argv.prefix);
        if (prefix === '/' && !argv.dryRun && !isRoot()) {
          process.stderr.write('ds01-install: installing into / needs root: run it with sudo (or use --dry-run, or --prefix DIR).\n');
          exitCode = 1;
          return;
        }
        const report = argv.uninstall
          ? await uninstall({ prefix, dryRun: argv.dryRun })
          : await install({ prefix, source: path.resolve(argv.source), dryRun: argv.dryRun });
        if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatInstallReport(report, styleFor(process.stdout)));
        exitCode = report.failed ? 1 : 0;
      },
    )
    .command(
      'doctor',
      'check this host and say what is wrong (exit 1 when something is)',
      (y) => y,
      async (argv) => {
        const report = await runDoctor({ prefix: resolvePrefix(argv.prefix) });
        if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatDoctorReport(report, styleFor(process.stdout)));
        exitCode = report.ok ? 0 : 1;
      },
    )
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      usage(msg);
    })
    .help()
    .version(false)
    .parseAsync();
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const json = process.argv.includes('--json');
    const message = err instanceof Error ? err.message : String(err);
    if (json) process.stdout.write(`${JSON.stringify({ status: 'error', message })}\n`);
    process.stderr.write(`ds01-install: ${message}\n`);
    process.exitCode = 3;
  },
);
