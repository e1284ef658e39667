// esbuild options every ds01 build-time bundle shares (bins, and the
// events-cli worker): one file for Node 20 with its dependencies.
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
  plugins: [lazyStringWidth],
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
  define: { 'import.meta.url': '__ds01ImportMetaUrl' },
  // import() of a built-in (or anything left outside the bundle) becomes a
  // require(): in Node 20 a script run from a code cache loses its dynamic
  // import callback, and the flag that restores it is experimental and says so.
  supported: { 'dynamic-import': false },
};
