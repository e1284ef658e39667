#!/usr/bin/env node
// First: the session's GPU query starts before the rest loads.
import './start-gpu-query.js';
import { closeEventLogs } from '@ds01/events-core';
import { main, runSession } from '../cli.js';
import { runsSessionDirectly } from '../session-command-line.js';

// No top-level await: the bin is bundled as a script (tools/bundle-bins.mjs). yargs loads only when
// the command line needs parsing (see runsSessionDirectly).
const argv = process.argv.slice(2);
const done = runsSessionDirectly(argv)
  ? runSession()
  : Promise.all([import('yargs'), import('yargs/helpers')]).then(([{ default: yargs }, { hideBin }]) => main(hideBin(process.argv), yargs));
done.then((code) => {
  closeEventLogs();
  process.exitCode = code;
});
