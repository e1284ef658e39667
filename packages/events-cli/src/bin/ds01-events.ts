#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { runCli } from '../cli.js';

runCli(hideBin(process.argv), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ds01-events: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 3;
  },
);
