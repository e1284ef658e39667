import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const installBin = fileURLToPath(new URL('../dist/bin/ds01-install.js', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fakeNvidiaSmi = path.join(repoRoot, 'test-support/bin/nvidia-smi');

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ds01-install-${name}-`));
}

const ALL_BINS: Record<string, string[]> = {
  'docker-wrapper': ['ds01-docker', 'ds01-docker-watch', 'ds01-docker-proxy'],
  'gpu-allocator': ['ds01-gpu'],
  'events-cli': ['ds01-events'],
  'maintenance-idle': ['ds01-idle'],
  'maintenance-runtime': ['ds01-runtime'],
  'maintenance-cleanup': ['ds01-cleanup'],
};

/**
 * A stand-in for the docker wrapper's launcher template
 * (packages/docker-wrapper/dist/docker-launcher.sh.in), shaped like the real
 * one: the marker, quoted placeholders, node named twice, pass-through verbs
 * to the real client, the proxy's socket dir, and the rest to the wrapper. real-checkout.test.ts
 * installs the real one.
 */
export const STAND_IN_LAUNCHER_TEMPLATE = [
  '#!/bin/sh',
  '# ds01-docker-wrapper launcher, a stand-in for the test: do not edit.',
  `ds01_gpu_start() { exec '@DS01_NODE@' "$DS01_GPU_BIN" allocate --stdin --json; }`,
  `ds01_proxy() { ds01_s='@DS01_PROXY_SOCKET_DIR@'/$USER; }`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax
  'case "${1-}" in',
  '  images|version)',
  `    exec '@DS01_REAL_DOCKER@' "$@" ;;`,
  'esac',
  `exec '@DS01_NODE@' '@DS01_WRAPPER@' "$@"`,
  '',
].join('\n');

/**
 * A stand-in checkout shaped like the real one (package.json bin maps, built
 * dist/bin scripts, the docker launcher's template, cron/ and systemd/ files),
 * so the installer's tests do not depend on which real packages are built.
 * `without` leaves bins unbuilt; `launcherTemplate` replaces the template
 * (false: not built).
 */
export function makeSourceTree(opts: { without?: string[]; launcherTemplate?: string | false } = {}): string {
  const root = tempDir('src');
  for (const [pkg, bins] of Object.entries(ALL_BINS)) {
    const dir = path.join(root, 'packages', pkg);
    fs.mkdirSync(path.join(dir, 'dist/bin'), { recursive: true });
    const binMap = Object.fromEntries(bins.map((b) => [b, `./dist/bin/${b}.js`]));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `@ds01/${pkg}`, bin: binMap }));
    for (const b of bins) {
      if (opts.without?.includes(b)) continue;
      fs.writeFileSync(path.join(dir, `dist/bin/${b}.js`), `console.log(JSON.stringify({ bin: '${b}', args: process.argv.slice(2) }));\n`);
    }
    if (pkg.startsWith('maintenance-')) {
      const job = pkg.slice('maintenance-'.length);
      fs.mkdirSync(path.join(dir, 'cron'));
      const cmd = job === 'cleanup' ? 'ds01-cleanup all' : `ds01-${job}`;
      fs.writeFileSync(path.join(dir, 'cron', `ds01-${job}`), `*/5 * * * * root /usr/local/bin/${cmd} >> /var/log/ds01/${job}.log 2>&1\n`);
    }
  }
  if (opts.launcherTemplate !== false) {
    fs.writeFileSync(
      path.join(root, 'packages/docker-wrapper/dist/docker-launcher.sh.in'),
      opts.launcherTemplate ?? STAND_IN_LAUNCHER_TEMPLATE,
    );
  }
  const wrapper = path.join(root, 'packages/docker-wrapper/systemd');
  fs.mkdirSync(wrapper);
  fs.writeFileSync(path.join(wrapper, 'ds01-docker-watch.service'), '[Service]\nExecStart=/usr/local/bin/ds01-docker-watch\n');
  const app = path.join(root, 'apps/install');
  fs.mkdirSync(path.join(app, 'dist/bin'), { recursive: true });
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: '@ds01/install', bin: { 'ds01-install': './dist/bin/ds01-install.js' } }),
  );
  fs.writeFileSync(path.join(app, 'dist/bin/ds01-install.js'), '\n');
  const demo = path.join(root, 'apps/demo');
  fs.mkdirSync(path.join(demo, 'dist/bin'), { recursive: true });
  fs.writeFileSync(
    path.join(demo, 'package.json'),
    JSON.stringify({ name: '@ds01/demo', bin: { 'ds01-demo': './dist/bin/ds01-demo.js' } }),
  );
  fs.writeFileSync(path.join(demo, 'dist/bin/ds01-demo.js'), '\n');
  return root;
}

export async function runInstall(args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(process.execPath, [installBin, ...args], { reject: false, env: { ...process.env, ...env } });
}

/** Every path under dir with its type, mode, owner and content hash: two snapshots compare whole trees. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
        walk(p);
      } else out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${fs.readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}
