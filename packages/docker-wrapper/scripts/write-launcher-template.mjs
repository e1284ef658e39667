#!/usr/bin/env node
// Build step (after tsc): writes the `docker` launcher as a template,
// dist/docker-launcher.sh.in, rendered by renderLauncher (src/launcher.ts,
// the one source) with placeholders instead of the site's paths.
//
// The contract with the installer (apps/install): apps do not import
// workspace packages, so ds01-install reads this file from the checkout
// (<this package>/dist/docker-launcher.sh.in, beside the ds01-docker bin it
// installs) and writes it to /usr/local/bin/docker with each placeholder,
// single-quoted as renderLauncher quotes every value ('@DS01_NODE@'),
// replaced by the shell-quoted value:
//
//   '@DS01_REAL_DOCKER@'  the real docker client (DS01_REAL_DOCKER, else /usr/bin/docker)
//   '@DS01_NODE@'         the node binary the installed shims run
//   '@DS01_WRAPPER@'      the wrapper's built entry (dist/bin/ds01-docker.cjs)
//   '@DS01_PROXY_SOCKET_DIR@'  where ds01-docker-proxy puts the users' sockets
//
// It refuses a template that leaves any @DS01_…@ after that, so renaming or
// adding a placeholder here needs the same change in
// apps/install/src/docker-launcher.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const { renderLauncher } = await import(path.join(dist, 'launcher.js'));
const placeholders = {
  realDocker: '@DS01_REAL_DOCKER@',
  node: '@DS01_NODE@',
  wrapper: '@DS01_WRAPPER@',
  proxySocketDir: '@DS01_PROXY_SOCKET_DIR@',
};
const text = renderLauncher(placeholders);
for (const value of Object.values(placeholders)) {
  // The installer replaces the quoted form only: a value renderLauncher no longer quotes would stay as it is.
  if (!text.includes(`'${value}'`)) throw new Error(`write-launcher-template: renderLauncher output has no '${value}'`);
}
const file = path.join(dist, 'docker-launcher.sh.in');
const tmp = `${file}.tmp-${process.pid}`;
fs.writeFileSync(tmp, text, { mode: 0o644 });
fs.renameSync(tmp, file);
console.log('write-launcher-template: dist/docker-launcher.sh.in');
