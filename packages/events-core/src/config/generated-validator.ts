import { createRequire } from 'node:module';

/**
 * The standalone site-config validator that the build generates
 * (scripts/generate-validators.mjs), or null where it has not been built
 * (tests on the sources). By package name, not by relative path, so any
 * installed layout finds it. The bundled bins swap this module for a plain
 * require of the file (tools/esbuild-node.mjs), which puts the validator in
 * the bundle and so in its code cache: compiling it cost ~12 ms per start.
 */
export function loadGeneratedValidator(): unknown {
  try {
    return createRequire(import.meta.url)('@ds01/events-core/generated/site-config-validator');
  } catch {
    return null;
  }
}
