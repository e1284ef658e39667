import fs from 'node:fs';
import path from 'node:path';
import { LAUNCHER_TEMPLATE } from './docker-launcher.js';
import { DOCKER_NAME, EXPECTED_BINS, WRAPPER_BIN } from './layout.js';

export interface FoundBin {
  name: string;
  /** Workspace directory relative to the source root, e.g. packages/gpu-allocator. */
  workspace: string;
  /** Absolute path of the built entry (dist/bin/<bin>.js, or .cjs for a bundled bin). */
  script: string;
  built: boolean;
}

export interface FoundFile {
  workspace: string;
  name: string;
  file: string;
}

export interface SourceTree {
  root: string;
  bins: FoundBin[];
  /** Expected bins no workspace declares, or declared but not built yet. */
  missing: { name: string; why: string }[];
  cronFiles: FoundFile[];
  systemdUnits: FoundFile[];
  /** The docker launcher's template beside the built ds01-docker bin (dist/docker-launcher.sh.in), when built. */
  launcherTemplate?: string;
}

/** The demo is not a server tool: of the apps, only the installer itself is installed. */
const INSTALLED_APPS = new Set(['install']);

function workspaces(root: string): string[] {
  const out: string[] = [];
  for (const parent of ['packages', 'apps']) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(root, parent)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (parent === 'apps' && !INSTALLED_APPS.has(name)) continue;
      if (fs.existsSync(path.join(root, parent, name, 'package.json'))) out.push(`${parent}/${name}`);
    }
  }
  return out;
}

function filesIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Reads what the checkout provides: each workspace's `bin` map (package.json is
 * the one source of bin names), its cron/ entries and systemd/ units.
 */
export function scanSourceTree(root: string): SourceTree {
  const bins: FoundBin[] = [];
  const cronFiles: FoundFile[] = [];
  const systemdUnits: FoundFile[] = [];
  for (const ws of workspaces(root)) {
    const dir = path.join(root, ws);
    let pkg: { bin?: Record<string, string> | string; name?: string };
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const binMap = typeof pkg.bin === 'string' ? { [path.basename(pkg.name ?? ws)]: pkg.bin } : (pkg.bin ?? {});
    for (const [name, rel] of Object.entries(binMap)) {
      const script = path.join(dir, rel);
      bins.push({ name, workspace: ws, script, built: fs.existsSync(script) });
    }
    for (const name of filesIn(path.join(dir, 'cron'))) cronFiles.push({ workspace: ws, name, file: path.join(dir, 'cron', name) });
    for (const name of filesIn(path.join(dir, 'systemd')).filter((n) => /\.(service|timer|socket)$/.test(n))) {
      systemdUnits.push({ workspace: ws, name, file: path.join(dir, 'systemd', name) });
    }
  }
  const missing: { name: string; why: string }[] = [];
  for (const name of EXPECTED_BINS) {
    const found = bins.find((b) => b.name === name);
    if (!found) missing.push({ name, why: 'no workspace package declares it' });
    else if (!found.built) missing.push({ name, why: `${path.relative(root, found.script)} is not built (run npm run build)` });
  }
  for (const b of bins) {
    if (!b.built && !missing.some((m) => m.name === b.name)) {
      missing.push({ name: b.name, why: `${path.relative(root, b.script)} is not built (run npm run build)` });
    }
  }
  // `docker` is the wrapper's launcher, which its package's build writes as a template.
  const wrapper = bins.find((b) => b.name === WRAPPER_BIN && b.built);
  let launcherTemplate: string | undefined;
  if (wrapper) {
    const template = path.join(root, wrapper.workspace, LAUNCHER_TEMPLATE);
    if (fs.existsSync(template)) launcherTemplate = template;
    else missing.push({ name: DOCKER_NAME, why: `${path.relative(root, template)} is not built (run npm run build)` });
  }
  return { root, bins: bins.filter((b) => b.built), missing, cronFiles, systemdUnits, launcherTemplate };
}
