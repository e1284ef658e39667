#!/usr/bin/env node
// Build step for the bins on hot paths (run by a package's `build` after tsc,
// from the package folder). A ds01 command is a fresh Node process each time
// (the wrapper on every `docker`, the allocator on every GPU request), and
// resolving, parsing and compiling a few hundred small modules cost more than
// the command's work. For each `bin` of package.json, declared as
// dist/bin/<name>.cjs, this writes:
//   <name>.bundle.cjs  tsc's dist/bin/<name>.js with its dependencies, one script
//   <name>.cjs         the entry (tools/bin-loader.cjs), which runs the bundle
//                      through V8's code cache
//   <name>.bundle.cache  that cache, made by running the bin once with --help
// and removes tsc's unbundled dist/bin/<name>.js, so nothing runs it by mistake.
// The library entries (`exports`) stay unbundled.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { binBundleOptions } from './esbuild-node.mjs';

const loader = fileURLToPath(new URL('./bin-loader.cjs', import.meta.url));
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
// Names on the command line choose some bins (long-running daemons gain nothing).
const only = process.argv.slice(2);
const bins = Object.entries(pkg.bin ?? {}).filter(([name]) => only.length === 0 || only.includes(name));
if (bins.length === 0) {
  console.error(`bundle-bins: ${pkg.name} declares no bin${only.length ? ` named ${only.join(', ')}` : ''}`);
  process.exit(2);
}
const wrong = bins.filter(([, file]) => !file.endsWith('.cjs')).map(([name, file]) => `${name} -> ${file}`);
if (wrong.length) {
  console.error(`bundle-bins: ${pkg.name} declares ${wrong.join(', ')}; bundled bins are declared as dist/bin/<name>.cjs`);
  process.exit(2);
}

for (const [name, declared] of bins) {
  const entry = declared.replace(/\.cjs$/, '.js');
  const bundle = declared.replace(/\.cjs$/, '.bundle.cjs');
  const cache = declared.replace(/\.cjs$/, '.bundle.cache');
  if (!fs.existsSync(entry)) {
    console.error(`bundle-bins: ${entry} is missing (run tsc first)`);
    process.exit(1);
  }
  // The old cache goes first: it must never outlive the bundle it was made from.
  fs.rmSync(cache, { force: true });
  const result = await build({ ...binBundleOptions, entryPoints: [entry], outfile: bundle });
  if (result.errors.length) process.exit(1);
  // The loader wraps the bundle in a function, where a #! line is a syntax error; the line stays, empty, so line numbers hold.
  // The build id at the end ties the code cache to this bundle (file times do not survive copies and turbo's cache).
  const code = fs.readFileSync(bundle, 'utf8').replace(/^#![^\n]*/, '');
  fs.writeFileSync(bundle, `${code}\n//ds01-build-id ${randomUUID()}\n`);
  fs.copyFileSync(loader, declared);
  fs.chmodSync(declared, 0o755);
  for (const f of [entry, `${entry}.map`, entry.replace(/\.js$/, '.d.ts')]) fs.rmSync(f, { force: true });

  const warm = spawnSync(process.execPath, [declared, '--help'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Nothing real is touched: the wrapper hands --help to a client that does nothing.
    env: { ...process.env, DS01_WRITE_CODE_CACHE: path.resolve(cache), DS01_REAL_DOCKER: '/bin/true', NO_COLOR: '1' },
    timeout: 30_000,
  });
  if (!fs.existsSync(cache)) {
    console.error(`bundle-bins: ${name} --help made no code cache (exit ${warm.status}): ${warm.stderr}`);
    process.exit(1);
  }
  console.log(`bundle-bins: ${name} -> ${path.normalize(declared)} (+ ${path.basename(bundle)}, ${path.basename(cache)})`);
}
