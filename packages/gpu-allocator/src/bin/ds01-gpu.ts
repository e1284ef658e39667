#!/usr/bin/env node
import { closeEventLogs } from '@ds01/events-core';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { main } from '../cli.js';

const code = await main(hideBin(process.argv), yargs);
closeEventLogs();
process.exitCode = code;
