#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { makeNarrator } from '../narrate.js';
import { runDemo } from '../run-demo.js';

async function main(): Promise<number> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('ds01-demo')
    .usage(
      'Usage: ds01-demo [--json] [--dir DIR] [--quiet]\n\nRuns the whole ds01 toolkit on a simulated 4-GPU server for three users (alice, bob, carol): containers through the wrapper, a GPU quota refusal, a refused bypass, an idle container warned and stopped, a runtime limit, cleanup releasing the GPU, then the event log. Takes about a minute; leaves nothing running. Run from the repository as `npm run demo`.',
    )
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON report on stdout (the story goes to stderr)' })
    .option('dir', { type: 'string', describe: 'put the site (config, event log, state) here and keep it afterwards' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no story, only the result' })
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`ds01-demo: ${msg}\nRun ds01-demo --help for usage.\n`);
      process.exit(2);
    })
    .help()
    .version(false)
    .parseAsync();
  const out = argv.json ? process.stderr : process.stdout;
  const narrator = makeNarrator({
    out,
    err: process.stderr,
    quiet: argv.quiet,
    colour: out.isTTY === true && process.env.NO_COLOR === undefined,
    start: Date.now(),
  });
  const report = await runDemo({ ...(argv.dir ? { dir: argv.dir } : {}), narrator, log: (m) => narrator.progress(`  ${m}`) });
  if (argv.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.status === 'no-docker') {
    process.stderr.write(`ds01-demo: no Docker engine to run on:\n${report.message}\n`);
    return 1;
  }
  if (report.status === 'needs-root') {
    process.stderr.write(`ds01-demo: ${report.message}\n`);
    return 1;
  }
  if (report.status === 'error') {
    process.stderr.write(`ds01-demo: failed: ${report.message}\n`);
    return 3;
  }
  const gaps = report.scenario?.gaps ?? [];
  if (!argv.json) {
    process.stdout.write(
      report.status === 'ok'
        ? `\nDemo finished in ${report.seconds} s. Nothing is left running${report.dir && argv.dir ? `; the site is kept in ${report.dir}` : ''}.\n`
        : `\nDemo finished in ${report.seconds} s, but it could not show everything:\n${gaps.map((g) => `  - ${g}`).join('\n')}\n${
            report.scenario?.steps
              .filter((s) => !s.asExpected)
              .map((s) => `  - step ${s.step} did not end as expected (${s.command ?? ''} exit ${s.exitCode ?? '?'})`)
              .join('\n') ?? ''
          }\n`,
    );
  }
  return report.status === 'ok' ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ds01-demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 3;
  },
);
