#!/usr/bin/env node
// Build step (run by `npm run build` after tsc and tools/bundle-bins.mjs, from
// the package folder): bundles the counting worker of --summary/--count,
// dist/read/tally-worker.js, in place into one module. Each worker thread
// starts a fresh module graph; one file instead of some twenty halves its
// start-up. The bundled bin finds it at the same path.
import fs from 'node:fs';
import { build } from 'esbuild';
import { nodeBundleOptions } from '../../../tools/esbuild-node.mjs';

const file = 'dist/read/tally-worker.js';
// picomatch is CommonJS and calls require(): the shared banner gives it the real one.
const result = await build({ ...nodeBundleOptions, entryPoints: [file], outfile: file });
if (result.errors.length) process.exit(1);
fs.rmSync(`${file}.map`, { force: true });
console.log(`bundle-worker: ${file}`);
