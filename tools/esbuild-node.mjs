// esbuild options every ds01 build-time bundle shares (bins, and the
// events-cli worker): one ES module for Node 20 with its dependencies.
export const nodeBundleOptions = {
  bundle: true,
  // Less to parse at each start; names are kept, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS dependencies call require(); give them the real one.
  banner: { js: "import { createRequire as __ds01Require } from 'node:module';\nconst require = __ds01Require(import.meta.url);" },
  // Native add-ons cannot be bundled; nothing on these paths loads one, and a
  // missing optional one is what the package expects anyway.
  external: ['*.node', 'cpu-features'],
  logLevel: 'warning',
  allowOverwrite: true,
};
