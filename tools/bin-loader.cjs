#!/usr/bin/env node
'use strict';
// A ds01 bin's entry, copied next to its bundle by tools/bundle-bins.mjs (see
// there for why). It runs <bin>.bundle.cjs through V8's code cache, so a start
// deserialises compiled code instead of parsing and compiling the bundle again.
// The cache is made at build time and trusted only for the bundle it was made
// from (the build id the bundle ends with, in the cache's first line); any
// mismatch, a missing file or V8 refusing it (another Node, other flags) just
// means compiling as usual.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { pathToFileURL } = require('node:url');

const bundle = __filename.replace(/\.cjs$/, '.bundle.cjs');
const cacheFile = __filename.replace(/\.cjs$/, '.bundle.cache');
const source = fs.readFileSync(bundle, 'utf8');
const idAt = source.lastIndexOf('\n//ds01-build-id ');
const stamp = idAt < 0 ? null : `ds01-code-cache ${process.version} ${source.slice(idAt + 17).trim()}`;

let cachedData;
let cacheState = 'absent';
try {
  const raw = fs.readFileSync(cacheFile);
  const eol = raw.indexOf(10);
  if (stamp && eol > 0 && raw.toString('latin1', 0, eol) === stamp) cachedData = raw.subarray(eol + 1);
  else cacheState = 'stale';
} catch {
  // No cache: compile.
}

// The bundle is one function expression (tools/bundle-bins.mjs, finishBundle). It holds no import():
// tools/esbuild-node.mjs turns each into a require().
const script = new vm.Script(source, { filename: bundle, cachedData });
if (cachedData) cacheState = script.cachedDataRejected ? 'rejected' : 'used';
// For administrators and the tests: was the cache used, and if not, why.
if (process.env.DS01_CODE_CACHE_REPORT) process.stderr.write(`ds01 code cache: ${cacheState} (${cacheFile})\n`);

// The build runs each bin's warm-up commands with this set to the caches to write
// (the bin's and its lazy chunks', tools/bundle-bins.mjs); each is written at
// exit, so it holds what that run compiled too.
if (stamp && (process.env.DS01_WRITE_CODE_CACHE ?? '').split(path.delimiter).includes(cacheFile)) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${stamp}\n`, 'latin1'), script.createCachedData()]));
    fs.renameSync(tmp, cacheFile);
  });
}

const mod = { exports: {} };
// The bundle sits beside this file, so this file's require resolves as the bundle's would (without loading node:module).
script.runInThisContext()(mod.exports, require, mod, bundle, path.dirname(bundle), pathToFileURL(bundle).href);
// A lazy chunk's loader is required by its bin's bundle, which wants the package's exports.
module.exports = mod.exports;
