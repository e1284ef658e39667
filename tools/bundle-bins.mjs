#!/usr/bin/env node
// Build step for the bins on hot paths (run by a package's `build` after tsc,
// from the package folder): bundles each `bin` of package.json, in place, into
// one ES module with its dependencies. A ds01 command is a fresh Node process
// each time (the wrapper on every `docker`, the allocator on every GPU
// request), and resolving and linking a few hundred small modules cost more
// than the command's work. The library entries (`exports`) stay unbundled.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { nodeBundleOptions } from './esbuild-node.mjs';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const only = process.argv.slice(2);
const bins = Object.entries(pkg.bin ?? {}).filter(([name]) => only.length === 0 || only.includes(name));
if (bins.length === 0) {
  console.error(`bundle-bins: no bin to bundle in ${pkg.name}${only.length ? ` named ${only.join(', ')}` : ''}`);
  process.exit(2);
}

for (const [name, file] of bins) {
  const outdir = path.dirname(file);
  const chunks = path.join(outdir, 'chunks');
  if (fs.existsSync(chunks)) for (const f of fs.readdirSync(chunks)) if (f.startsWith(`${name}-`)) fs.rmSync(path.join(chunks, f));
  const result = await build({
    ...nodeBundleOptions,
    entryPoints: { [path.basename(file, '.js')]: file },
    outdir,
    // What a bin imports lazily (execa, ajv, ... on the paths that need them)
    // goes to chunks loaded on first use, so a short command parses only its own code.
    splitting: true,
    chunkNames: `chunks/${name}-[hash]`,
  });
  if (result.errors.length) process.exit(1);
  fs.rmSync(`${file}.map`, { force: true });
  fs.chmodSync(file, 0o755);
  console.log(`bundle-bins: ${name} -> ${path.normalize(file)}`);
}
