// esbuild options every ds01 build-time bundle shares (bins, and the
// events-cli worker): one file for Node 20 with its dependencies.
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';

// string-width (under yargs' cliui) builds an Intl.Segmenter and several
// Unicode-property regexes when it is loaded: about 30 ms of every start,
// spent before any argument is read, for a function a query or an allocation
// never calls and help text calls only on ASCII. Each import of it gets this
// front instead: printable ASCII is measured by its length (what both
// string-width versions answer for it), anything else loads the real module
// on first use.
const lazyStringWidth = {
  name: 'ds01-lazy-string-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.namespace === 'ds01-lazy-string-width') return undefined;
      const real = await build.resolve('string-width', {
        resolveDir: args.resolveDir,
        kind: args.kind,
        importer: args.importer,
        namespace: 'ds01-lazy-string-width',
      });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'ds01-lazy-string-width' };
    });
    build.onLoad({ filter: /.*/, namespace: 'ds01-lazy-string-width' }, (args) => ({
      resolveDir: path.dirname(args.path),
      contents: [
        'let real;',
        'export default function stringWidth(input, options) {',
        "  if (typeof input === 'string' && /^[\\u0020-\\u007E]*$/.test(input)) return input.length;",
        `  real ??= require(${JSON.stringify(args.path)}).default;`,
        '  return real(input, options);',
        '}',
      ].join('\n'),
    }));
  },
};

// yargs' Node shim imports node:assert for two internal checks, and loading
// node:assert builds its AssertionError and colour support and opens stderr:
// ~5 ms of every start. The shim gets the two checks it uses instead.
const yargsAssert = {
  name: 'ds01-yargs-assert',
  setup(build) {
    build.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]/.test(args.importer) ? { path: 'assert', namespace: 'ds01-yargs-assert' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'ds01-yargs-assert' }, () => ({
      contents: [
        'const fail = (message, fallback) => { throw new Error(message ?? fallback); };',
        'export function strictEqual(a, b, message) { if (!Object.is(a, b)) fail(message, String(a) + " !== " + String(b)); }',
        'export function notStrictEqual(a, b, message) { if (Object.is(a, b)) fail(message, String(a) + " === " + String(b)); }',
      ].join('\n'),
    }));
  },
};

// events-core finds the site-config validator it generates at build time by
// package name at run time, out of a bundler's sight, so a bin would compile
// that 180 kB file at every start. In a bundle its finder becomes a plain
// require of the file: the validator is bundled and lands in the code cache.
const bundledSiteConfigValidator = {
  name: 'ds01-site-config-validator',
  setup(build) {
    build.onLoad({ filter: /[\\/]events-core[\\/]dist[\\/]config[\\/]generated-validator\.js$/ }, (args) => {
      const file = path.join(path.dirname(args.path), 'site-config-validator.cjs');
      return {
        resolveDir: path.dirname(args.path),
        contents: `export function loadGeneratedValidator() { return require(${JSON.stringify(file)}); }\n`,
      };
    });
  },
};

// In a CommonJS bundle, esbuild gives each `import fs from 'node:fs'` (and each `import * as`) of a
// Node built-in its own copy of the module's exports (`__toESM`, a getter per
// property), at every import site: the wrapper's bundle made 23 such copies,
// about 9 ms of each start. Here each built-in becomes one ES module of the
// bundle instead, made once, that every importer shares.
// Its named exports are bindings read from the module when it loads, one per
// name this Node's module has, each marked pure so that esbuild keeps only
// those some importer uses. `export * from` the module instead had esbuild
// copy every property as a getter (fs alone: ~100 closures and descriptors,
// 50 kB of young heap at every start, enough to tip the wrapper into a
// garbage collection before its answer), and reading every property would
// read accessors such as fs.promises and fs.ReadStream, which load more of
// Node (5 ms for fs's). A name imported is read once: for a built-in's
// functions and constants that is what the module holds.
const require = createRequire(import.meta.url);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function builtinModuleSource(id) {
  const names = Object.getOwnPropertyNames(require(id)).filter((name) => name !== 'default' && IDENTIFIER.test(name));
  return [
    `const ds01Builtin = require(${JSON.stringify(id)});`,
    'const ds01Read = (name) => ds01Builtin[name];',
    'export default ds01Builtin;',
    ...names.map((name) => `export const ${name} = /* @__PURE__ */ ds01Read(${JSON.stringify(name)});`),
  ].join('\n');
}
const BUILTIN = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
const sharedBuiltins = {
  name: 'ds01-shared-builtins',
  setup(build) {
    build.onResolve({ filter: BUILTIN }, (args) =>
      args.namespace === 'ds01-builtin' || args.kind === 'require-call'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^(node:)?/, 'node:'), namespace: 'ds01-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'ds01-builtin' }, (args) => ({ contents: builtinModuleSource(args.path) }));
  },
};

const shared = {
  bundle: true,
  // Less to parse at each start; names are kept, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  platform: 'node',
  target: 'node20',
  // Native add-ons cannot be bundled; nothing on these paths loads one, and a
  // missing optional one is what the package expects anyway.
  external: ['*.node', 'cpu-features'],
  plugins: [lazyStringWidth, yargsAssert, bundledSiteConfigValidator],
  logLevel: 'warning',
  allowOverwrite: true,
};

/** One ES module (the events-cli worker). */
export const nodeBundleOptions = {
  ...shared,
  format: 'esm',
  // Bundled CommonJS dependencies call require(); give them the real one.
  banner: { js: "import { createRequire as __ds01Require } from 'node:module';\nconst require = __ds01Require(import.meta.url);" },
};

/**
 * One CommonJS function body for tools/bin-loader.cjs, which passes the
 * bundle's own file URL in as __ds01ImportMetaUrl (V8's code cache works on
 * scripts, not on ES modules, in Node 20).
 */
export const binBundleOptions = {
  ...shared,
  format: 'cjs',
  // After yargsAssert, which takes node:assert from yargs' shim first. (An ES module
  // bundle imports built-ins natively, with no copies to share.)
  plugins: [...shared.plugins, sharedBuiltins],
  define: { 'import.meta.url': '__ds01ImportMetaUrl' },
  // import() of a built-in (or anything left outside the bundle) becomes a
  // require(): in Node 20 a script run from a code cache loses its dynamic
  // import callback, and the flag that restores it is experimental and says so.
  supported: { 'dynamic-import': false },
  // Short local names: V8 keeps every identifier of the code cache as an internalised string, so a start
  // that deserialises the wrapper's cache made thousands of them. Minified, a checked docker command took
  // 5-7 ms less (side by side, 61 runs each); keeping the names as well (keepNames) gave half of that back.
  // Errors keep their messages and explicit names; a stack trace's frames point into the bundle, and the
  // source map beside it (<bin>.bundle.cjs.map, no URL in the bundle) leads back to the sources.
  minifyIdentifiers: true,
  sourcemap: 'external',
};
