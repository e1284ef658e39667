#!/usr/bin/env node
// Build step (run by `npm run build` after tsc and tools/bundle-bins.mjs, from
// the package folder): bundles the counting worker of --summary/--count,
// dist/read/tally-worker.js, in place into one module. Each worker thread
// starts a fresh module graph; one file instead of some twenty halves its
// start-up. The bundled bin finds it at the same path.
import fs from 'node:fs';
import { build } from 'esbuild';

const file = 'dist/read/tally-worker.js';
const result = await build({
  entryPoints: [file],
  outfile: file,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // picomatch is CommonJS and calls require(): give it the real one.
  banner: { js: "import { createRequire as __ds01Require } from 'node:module';\nconst require = __ds01Require(import.meta.url);" },
  logLevel: 'warning',
});
if (result.errors.length) process.exit(1);
fs.rmSync(`${file}.map`, { force: true });
console.log(`bundle-worker: ${file}`);
