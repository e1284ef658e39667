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
 * A stand-in checkout shaped like the real one (package.json bin maps, built
 * dist/bin scripts, cron/ and systemd/ files), so the installer's tests do not
 * depend on which real packages are built. `without` leaves bins unbuilt.
 */
export function makeSourceTree(opts: { without?: string[] } = {}): string {
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
