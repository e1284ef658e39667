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
//   <name>.bundle.cache  that cache, made by running the bin's warm-up commands
//                      (package.json "ds01": {"codeCacheWarmUp": {<name>: [[args...] or
//                      {"args": [...], "env": {...}, "pipes": n}, ...]}},
//                      else --help) in a sandbox (tools/warm-up-sandbox.mjs): the
//                      cache holds what those runs compiled, so the code a real
//                      command runs is not compiled at its start either
// and removes tsc's unbundled dist/bin/<name>.js, so nothing runs it by mistake.
//
// A package a bin reaches only through import() and only on some commands can
// be kept out of the bundle every command reads ("ds01": {"lazyChunks":
// {<name>: ["pkg", ...]}}): each becomes <name>.lazy-<slug>.cjs, a loader like
// the bin's, with its own bundle and cache (written when a warm-up command
// loads it), and the bin's import() of it a require of that file. A static
// import of such a package fails the build: it would load a second copy.
// The library entries (`exports`) stay unbundled.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { binBundleOptions } from './esbuild-node.mjs';
import { withWarmUpSandbox } from './warm-up-sandbox.mjs';

/**
 * Runs one command to its end (the sandbox's engine answers meanwhile); never throws. `pipes` more pipes
 * follow stdio (fd 3, 4, ...), read and dropped: a warm-up may need what its launcher gives the bin.
 */
const run = (file, args, env, pipes = 0) =>
  new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe', ...Array(pipes).fill('pipe')] });
    let output = '';
    const keep = (d) => {
      output = `${output}${d}`.slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    for (const extra of child.stdio.slice(3)) extra.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (err) => keep(String(err)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code === 0 ? 0 : (code ?? signal ?? 'killed'), output });
    });
  });

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
  const chunks = (pkg.ds01?.lazyChunks?.[name] ?? []).map((spec) => {
    const file = path.join(path.dirname(declared), `${name}.lazy-${spec.replace(/^@/, '').replace(/[^A-Za-z0-9]+/g, '-')}.cjs`);
    return { spec, file, bundle: file.replace(/\.cjs$/, '.bundle.cjs'), cache: file.replace(/\.cjs$/, '.bundle.cache') };
  });
  const caches = [cache, ...chunks.map((c) => c.cache)];
  // Old caches go first: a cache must never outlive the bundle it was made from.
  for (const c of caches) fs.rmSync(c, { force: true });
  const result = await build({
    ...binBundleOptions,
    entryPoints: [entry],
    outfile: bundle,
    plugins: [lazyChunks(chunks), ...binBundleOptions.plugins],
  });
  if (result.errors.length) process.exit(1);
  finishBundle(bundle, declared, 0o755);
  for (const c of chunks) {
    // module.exports of the package, as its import() expects: a namespace object.
    const stdin = {
      contents: `module.exports = require(${JSON.stringify(c.spec)});`,
      resolveDir: process.cwd(),
      sourcefile: `${c.spec} (lazy chunk)`,
    };
    const r = await build({ ...binBundleOptions, stdin, outfile: c.bundle });
    if (r.errors.length) process.exit(1);
    finishBundle(c.bundle, c.file, 0o644);
  }
  for (const f of [entry, `${entry}.map`, entry.replace(/\.js$/, '.d.ts')]) fs.rmSync(f, { force: true });

  // Each command of the bin's warm-up runs from the caches the one before wrote and adds what it compiled.
  const warmUp = pkg.ds01?.codeCacheWarmUp?.[name] ?? [['--help']];
  const writeCaches = caches.map((c) => path.resolve(c)).join(path.delimiter);
  const failure = await withWarmUpSandbox(async (env, { user }) => {
    for (const command of warmUp) {
      // [args...], or {args, env, pipes} for a command that needs more of the sandbox's environment
      // (DS01_AS_USER) or more pipes than stdio (the docker launcher's hand-off on fd 3).
      const { args: raw, env: extra = {}, pipes = 0 } = Array.isArray(command) ? { args: command } : command;
      const args = raw.map((a) => a.replaceAll('{user}', user));
      const r = await run(process.execPath, [declared, ...args], { ...env, ...extra, DS01_WRITE_CODE_CACHE: writeCaches }, pipes);
      if (r.code !== 0 || !fs.existsSync(cache)) return `\`${name} ${args.join(' ')}\` failed (exit ${r.code}):\n${r.output}`;
    }
    return null;
  });
  if (failure) {
    // A warm-up that fails no longer runs the code real commands run: mend it rather than ship a weaker cache.
    for (const c of caches) fs.rmSync(c, { force: true });
    console.error(`bundle-bins: warming the code cache up: ${failure}`);
    process.exit(1);
  }
  const extra = chunks.map((c) => `${path.basename(c.file)}${fs.existsSync(c.cache) ? '' : ' (no warm-up loads it: compiled when used)'}`);
  console.log(
    `bundle-bins: ${name} -> ${path.normalize(declared)} (+ ${path.basename(bundle)}, ${path.basename(cache)}${extra.map((e) => `; lazy ${e}`).join('')})`,
  );
}

/** Makes a bundle loadable by tools/bin-loader.cjs, and puts that loader beside it as `entry`. */
function finishBundle(bundle, entry, mode) {
  // The bundle is the function the loader calls, written out here rather than wrapped at every start, which
  // made a second copy of the source (92 kB for the wrapper) on every run. The wrapper takes the #! line's
  // place (a syntax error inside a function), or a line of its own before the code, which moves the source
  // map's lines down by one (a leading ';' in its mappings): either way the map still reads.
  // The build id at the end ties the code cache to this bundle (file times do not survive copies and turbo's cache).
  const raw = fs.readFileSync(bundle, 'utf8');
  const hashBang = raw.startsWith('#!');
  const code = hashBang ? raw.replace(/^#![^\n]*/, '') : `\n${raw}`;
  if (!hashBang && fs.existsSync(`${bundle}.map`)) {
    const map = JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8'));
    map.mappings = `;${map.mappings}`;
    fs.writeFileSync(`${bundle}.map`, JSON.stringify(map));
  }
  const open = '(function (exports, require, module, __filename, __dirname, __ds01ImportMetaUrl) {';
  fs.writeFileSync(bundle, `${open}${code}\n})\n//ds01-build-id ${randomUUID()}\n`);
  fs.copyFileSync(loader, entry);
  fs.chmodSync(entry, mode);
}

/** The bin's import() of each lazy package becomes a require of its chunk's loader; any other import of it is an error. */
function lazyChunks(chunks) {
  const bySpec = new Map(chunks.map((c) => [c.spec, c]));
  const filter = new RegExp(`^(${chunks.map((c) => c.spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'ds01-lazy-chunks',
    setup(b) {
      if (chunks.length === 0) return;
      b.onResolve({ filter }, (args) => {
        const c = bySpec.get(args.path);
        if (!c) return undefined;
        if (args.kind !== 'dynamic-import')
          return {
            errors: [{ text: `${c.spec} is a lazy chunk of this bin (package.json ds01.lazyChunks): import it only through import()` }],
          };
        return { path: `./${path.basename(c.file)}`, external: true };
      });
    },
  };
}
