#!/usr/bin/env node
import { closeEventLogs } from '@ds01/events-core';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { main } from '../cli.js';

// No top-level await: the bin is bundled as a script (tools/bundle-bins.mjs).
main(hideBin(process.argv), yargs).then((code) => {
  closeEventLogs();
  process.exitCode = code;
});
