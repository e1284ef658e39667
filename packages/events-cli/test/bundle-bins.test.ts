// tools/bundle-bins.mjs's warm-up: a bin's code cache is made by the commands
// its package.json lists, run in a sandbox that never reaches the site, and a
// warm-up command that fails fails the build (no cache is left behind).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fixtures.js';

const bundleBins = path.resolve(import.meta.dirname, '../../../tools/bundle-bins.mjs');

// What the warm-up command saw, written where the test can read it; exits 1 on `fail`.
const BIN_SOURCE = `
const fs = require('node:fs');
const [word, out] = process.argv.slice(2);
fs.appendFileSync(out, JSON.stringify({ word, config: process.env.DS01_CONFIG, sudo: process.env.SUDO_USER ?? null, docker: process.env.DOCKER_HOST, asUser: process.env.DS01_AS_USER ?? null }) + '\\n');
process.exit(word === 'fail' ? 1 : 0);
`;

type WarmUpCommand = string[] | { args: string[]; env: Record<string, string> };

function fakePackage(warmUp: WarmUpCommand[]): { dir: string; seen: string } {
  const dir = tempDir();
  const seen = path.join(dir, 'seen.jsonl');
  fs.mkdirSync(path.join(dir, 'dist/bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'dist/bin/x.js'), BIN_SOURCE);
  const withSeen = (c: WarmUpCommand) => (Array.isArray(c) ? [...c, seen] : { ...c, args: [...c.args, seen] });
  const pkg = { name: 'x', bin: { x: './dist/bin/x.cjs' }, ds01: { codeCacheWarmUp: { x: warmUp.map(withSeen) } } };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  return { dir, seen };
}

const seenRuns = (seen: string) =>
  fs
    .readFileSync(seen, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** Runs a built bin with the code-cache report on; each loader (the bin's, a lazy chunk's) reports one line. */
function runBuilt(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DS01_CODE_CACHE_REPORT: '1' } });
  return {
    status: r.status,
    stdout: r.stdout,
    reports: [...r.stderr.matchAll(/ds01 code cache: (\w+) \(([^)]+)\)/g)].map((m) => `${m[1]} ${path.basename(m[2]!)}`),
  };
}

function build(dir: string) {
  return spawnSync(process.execPath, [bundleBins], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DS01_CONFIG: '/etc/ds01/resource-limits.yaml', SUDO_USER: 'alice', DOCKER_HOST: 'unix:///var/run/docker.sock' },
  });
}

describe('bundle-bins warm-up', () => {
  it('runs each listed command in a sandbox of its own, then leaves a cache the entry uses', () => {
    const { dir, seen } = fakePackage([['one'], ['two']]);
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    const runs = seenRuns(seen);
    expect(runs.map((x) => x.word)).toEqual(['one', 'two']);
    for (const x of runs) {
      expect(x.config).toMatch(/ds01-warm-up-[^/]+\/resource-limits\.yaml$/);
      expect(x.docker).toMatch(/^unix:\/\/.*ds01-warm-up-[^/]+\/engine\.sock$/);
      expect(x.sudo).toBeNull();
    }
    const report = spawnSync(process.execPath, [path.join(dir, 'dist/bin/x.cjs'), 'three', seen], {
      encoding: 'utf8',
      env: { ...process.env, DS01_CODE_CACHE_REPORT: '1' },
    });
    expect(report.status).toBe(0);
    expect(report.stderr).toMatch(/ds01 code cache: used/);
  });

  it('fails the build, naming the command, when a warm-up command fails; no cache is left', () => {
    const { dir } = fakePackage([['one'], ['fail']]);
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/`x fail \S+` failed \(exit 1\)/);
    expect(fs.existsSync(path.join(dir, 'dist/bin/x.bundle.cache'))).toBe(false);
  });

  it('gives a command written as {args, env} that environment, on top of the sandbox', () => {
    const { dir, seen } = fakePackage([['one'], { args: ['two'], env: { DS01_AS_USER: 'nobody' } }]);
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(seenRuns(seen).map((x) => [x.word, x.asUser])).toEqual([
      ['one', null],
      ['two', 'nobody'],
    ]);
  });
});

describe('bundle-bins: one shared copy of each Node built-in', () => {
  /** Builds a package whose bin `x` is `files['x.js']` (with its siblings), and runs it: its output and its bundle. */
  function buildAndRun(files: Record<string, string>): { stdout: string; bundle: string } {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'dist/bin'), { recursive: true });
    for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'dist/bin', name), source);
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'x', type: 'module', bin: { x: './dist/bin/x.cjs' }, ds01: { codeCacheWarmUp: { x: [[]] } } }),
    );
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    return {
      stdout: runBuilt(path.join(dir, 'dist/bin/x.cjs'), []).stdout,
      bundle: fs.readFileSync(path.join(dir, 'dist/bin/x.bundle.cjs'), 'utf8'),
    };
  }

  it('bundles default, named and namespace imports of a built-in without a copy per import site', () => {
    const { stdout, bundle } = buildAndRun({
      'a.js': "import fs from 'node:fs';\nexport const a = () => fs.existsSync('/');\n",
      'b.js': "import * as fs from 'fs';\nexport const b = () => typeof fs.readFileSync;\n",
      'x.js':
        "import { statSync } from 'node:fs';\nimport path from 'node:path';\nimport { a } from './a.js';\nimport { b } from './b.js';\n" +
        "console.log(a(), b(), statSync('/').isDirectory(), path.join('p', 'q'));\n",
    });
    expect(stdout).toBe('true function true p/q\n');
    expect(bundle).not.toMatch(/__toESM\(require\("(node:)?fs"\)/);
    expect(bundle.match(/require\("node:fs"\)/g)).toHaveLength(1); // the shared module
    // Its named exports are bindings, and only those imported somewhere are kept: no getter copied per
    // property of fs (esbuild's copy helper walks Object.getOwnPropertyNames).
    expect(bundle).not.toMatch(/getOwnPropertyNames/);
    expect(bundle).toMatch(/\("statSync"\)/);
    expect(bundle).not.toMatch(/\("writeFileSync"\)/);
  });

  it('reads an accessor of a built-in imported by name, and not one that is not', () => {
    // fs.promises is a getter; fs.ReadStream too, and reading it loads fs's streams.
    const { stdout, bundle } = buildAndRun({
      'x.js': "import fs, { promises } from 'node:fs';\nconsole.log(typeof promises.readFile, typeof fs.ReadStream);\n",
    });
    expect(stdout).toBe('function function\n');
    expect(bundle).toMatch(/\("promises"\)/);
    expect(bundle).not.toMatch(/\("ReadStream"\)/);
  });
});

describe('bundle-bins: lazy chunks', () => {
  /** A package whose bin imports `lazy-lib` (a dependency in node_modules) only through import(), on `lazy`. */
  function lazyPackage(binSource: string, warmUp: string[][]): string {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'dist/bin'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'node_modules/lazy-lib'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'node_modules/lazy-lib/package.json'),
      JSON.stringify({ name: 'lazy-lib', type: 'module', exports: './index.js' }),
    );
    fs.writeFileSync(path.join(dir, 'node_modules/lazy-lib/index.js'), "export const hello = () => 'LAZY-LIB says hello';\n");
    fs.writeFileSync(path.join(dir, 'dist/bin/x.js'), binSource);
    const pkg = {
      name: 'x',
      type: 'module',
      bin: { x: './dist/bin/x.cjs' },
      ds01: { codeCacheWarmUp: { x: warmUp }, lazyChunks: { x: ['lazy-lib'] } },
    };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    return dir;
  }
  const LAZY_BIN =
    "if (process.argv[2] === 'lazy') import('lazy-lib').then((m) => console.log(m.hello()));\nelse console.log('no chunk');\n";

  it("keeps the package out of the bin's bundle and loads it, from its own cache, only when imported", () => {
    const dir = lazyPackage(LAZY_BIN, [['plain'], ['lazy']]);
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    const bin = path.join(dir, 'dist/bin/x.cjs');
    expect(fs.readFileSync(path.join(dir, 'dist/bin/x.bundle.cjs'), 'utf8')).not.toContain('LAZY-LIB');
    expect(fs.readFileSync(path.join(dir, 'dist/bin/x.lazy-lazy-lib.bundle.cjs'), 'utf8')).toContain('LAZY-LIB');
    expect(runBuilt(bin, ['plain'])).toEqual({ status: 0, stdout: 'no chunk\n', reports: ['used x.bundle.cache'] });
    expect(runBuilt(bin, ['lazy'])).toEqual({
      status: 0,
      stdout: 'LAZY-LIB says hello\n',
      reports: ['used x.bundle.cache', 'used x.lazy-lazy-lib.bundle.cache'],
    });
  });

  it('leaves a chunk no warm-up command loads without a cache: it still loads, compiled when used', () => {
    const dir = lazyPackage(LAZY_BIN, [['plain']]);
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lazy x\.lazy-lazy-lib\.cjs \(no warm-up loads it/);
    expect(runBuilt(path.join(dir, 'dist/bin/x.cjs'), ['lazy'])).toMatchObject({
      stdout: 'LAZY-LIB says hello\n',
      reports: ['used x.bundle.cache', 'absent x.lazy-lazy-lib.bundle.cache'],
    });
  });

  it('leaves a source map beside each bundle that leads a stack frame back to its source line', () => {
    // Identifiers are minified (tools/esbuild-node.mjs), so a trace is read through the maps.
    const dir = lazyPackage(
      "if (process.argv[2] === 'lazy') import('lazy-lib').then((m) => m.fail());\nelse {\n  const local = 1;\n  throw new Error('bin ' + local);\n}\n",
      [],
    );
    fs.writeFileSync(
      path.join(dir, 'node_modules/lazy-lib/index.js'),
      "export const ok = 1;\nexport function fail() {\n  throw new Error('chunk');\n}\n",
    );
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    const bin = path.join(dir, 'dist/bin/x.cjs');
    /** The first frame in `bundle`, mapped through `bundle`.map: [source file, 1-based line]. */
    const origin = (args: string[], bundle: string) => {
      const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      const frame = new RegExp(`${bundle.replace(/\./g, '\\.')}:(\\d+):(\\d+)`).exec(run.stderr);
      expect(frame, run.stderr).not.toBeNull();
      const map = new SourceMap(JSON.parse(fs.readFileSync(path.join(dir, 'dist/bin', `${bundle}.map`), 'utf8')));
      const entry = map.findEntry(Number(frame![1]) - 1, Number(frame![2]) - 1) as { originalSource: string; originalLine: number };
      return [path.basename(entry.originalSource), entry.originalLine + 1];
    };
    // The bin's bundle replaces its #! line with the loader's function head; the chunk gets a line of its own.
    expect(origin([], 'x.bundle.cjs')).toEqual(['x.js', 4]);
    expect(origin(['lazy'], 'x.lazy-lazy-lib.bundle.cjs')).toEqual(['index.js', 3]);
  });

  it('fails the build when the bin also imports the package statically (it would load twice)', () => {
    const dir = lazyPackage(`import { hello } from 'lazy-lib';\n${LAZY_BIN}console.log(hello());\n`, [['plain']]);
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lazy-lib is a lazy chunk of this bin \(package\.json ds01\.lazyChunks\): import it only through import\(\)/);
  });
});
