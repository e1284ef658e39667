import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAUNCHER_TEMPLATE, renderDockerLauncher } from './docker-launcher.js';
import type { FoundBin, SourceTree } from './find-bins.js';
import { DIR_MODES, DOCKER_NAME, PROXY_BIN, SITE, WRAPPER_BIN } from './layout.js';
import { renderDockerSocketDropIn, renderLogrotate, renderProfile, renderShim, renderSudoers } from './render-site-files.js';

interface Base {
  /** The path on the installed host (absolute, without the prefix). */
  path: string;
  /** What it is, in words, for the report. */
  what: string;
}
export interface DirItem extends Base {
  kind: 'dir';
  mode: number;
  owner: string;
  group: string;
  /** ds01's own directories get their mode and owner fixed; shared ones (/etc/cron.d) are only created. */
  enforce: boolean;
}
export interface FileItem extends Base {
  kind: 'file';
  content: string;
  mode: number;
  owner: string;
  group: string;
  /** Written only when absent (the site config belongs to the admin once it exists). */
  ifMissing?: boolean;
  /** Checked before it is put in place (a broken sudoers.d file disables sudo). */
  validate?: 'sudoers';
  /**
   * Not installed, for this reason (reported as failed): whatever stands at
   * the path stays, and so does what the manifest says about it.
   */
  refused?: string;
}
export type PlanItem = DirItem | FileItem;

export interface InstallPlan {
  items: PlanItem[];
  /** systemd units to enable (names), installed in SITE.systemdDir. */
  units: string[];
}

/** The example site config shipped with this package (site/resource-limits.yaml). */
export function exampleConfigPath(): string {
  // dist/plan-install.js and src/plan-install.ts both sit one level under the package.
  return fileURLToPath(new URL('../site/resource-limits.yaml', import.meta.url));
}

const CRON_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * `docker`: the wrapper's launcher, with the site's paths filled in
 * (docker-launcher.ts). Refused, not skipped, when it cannot be made: a
 * previous `docker` then stays rather than being removed as no longer
 * provided.
 */
function dockerLauncher(tree: SourceTree, wrapper: FoundBin, nodePath: string, realDocker: string): FileItem {
  const item: FileItem = {
    kind: 'file',
    path: path.posix.join(SITE.binDir, DOCKER_NAME),
    what: `docker: the ds01 launcher (pass-through verbs to ${realDocker}, the rest to ${WRAPPER_BIN})`,
    content: '',
    mode: 0o755,
    owner: 'root',
    group: 'root',
  };
  const refuse = (why: string): FileItem => ({ ...item, refused: `not installed: ${why}; what stands there now is left as it is` });
  const template = path.posix.join(wrapper.workspace, LAUNCHER_TEMPLATE);
  if (!tree.launcherTemplate) return refuse(`${template} is not built (run npm run build)`);
  const ours = [item.path, path.posix.join(SITE.binDir, WRAPPER_BIN)];
  if (!path.posix.isAbsolute(realDocker) || ours.includes(path.posix.normalize(realDocker))) {
    return refuse(
      `the real docker client ${realDocker} ${path.posix.isAbsolute(realDocker) ? 'is ds01 itself, which would run itself' : 'is not an absolute path'} (set DS01_REAL_DOCKER to docker's own client, e.g. ${SITE.realDocker})`,
    );
  }
  const out = renderDockerLauncher(fs.readFileSync(tree.launcherTemplate, 'utf8'), {
    realDocker,
    node: nodePath,
    wrapper: wrapper.script,
    proxySocketDir: SITE.proxySocketDir,
  });
  if ('problem' in out) return refuse(`${template}: ${out.problem} (rebuild the checkout: npm run build)`);
  return { ...item, content: out.text };
}

export function planInstall(tree: SourceTree, nodePath: string, warnings: string[], realDocker: string = SITE.realDocker): InstallPlan {
  const items: PlanItem[] = [];
  const dir = (p: string, what: string, spec?: { mode: number; owner: string; group: string }) =>
    items.push({
      kind: 'dir',
      path: p,
      what,
      mode: spec?.mode ?? 0o755,
      owner: spec?.owner ?? 'root',
      group: spec?.group ?? 'root',
      enforce: !!spec,
    });

  dir(SITE.binDir, 'bin directory');
  const behindProxy = tree.bins.some((b) => b.name === PROXY_BIN);
  if (behindProxy) dir(SITE.logDir, "event log directory (root only: the proxy writes users' events)", DIR_MODES.logDirBehindProxy);
  else dir(SITE.logDir, 'event log directory (setgid, group docker may append)', DIR_MODES.logDir);
  dir(SITE.stateDir, 'state directory (allocator and job state, root only)', DIR_MODES.stateDir);
  dir(SITE.configDir, 'site config directory', DIR_MODES.configDir);

  for (const bin of tree.bins) {
    items.push({
      kind: 'file',
      path: path.posix.join(SITE.binDir, bin.name),
      what: `bin ${bin.name} (${bin.workspace})`,
      content: renderShim(bin.name, nodePath, bin.script, bin.workspace),
      mode: 0o755,
      owner: 'root',
      group: 'root',
    });
  }
  const wrapper = tree.bins.find((b) => b.name === WRAPPER_BIN);
  if (wrapper) items.push(dockerLauncher(tree, wrapper, nodePath, realDocker));

  if (tree.cronFiles.length > 0) dir(SITE.cronDir, 'cron.d');
  for (const cron of tree.cronFiles) {
    // cron ignores names with dots; a file it would skip is a silent no-op, so refuse it loudly.
    if (!CRON_NAME.test(cron.name)) {
      warnings.push(`${cron.workspace}/cron/${cron.name}: not installed (cron.d ignores names other than letters, digits, - and _)`);
      continue;
    }
    items.push({
      kind: 'file',
      path: path.posix.join(SITE.cronDir, cron.name),
      what: `cron entry (${cron.workspace})`,
      content: fs.readFileSync(cron.file, 'utf8'),
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
  }

  dir(path.posix.dirname(SITE.logrotateFile), 'logrotate.d');
  items.push({
    kind: 'file',
    path: SITE.logrotateFile,
    what: 'log rotation (by rename, no copytruncate)',
    content: renderLogrotate(behindProxy),
    mode: 0o644,
    owner: 'root',
    group: 'root',
  });

  items.push({
    kind: 'file',
    path: SITE.configFile,
    what: 'example site config (only when none exists)',
    content: fs.readFileSync(exampleConfigPath(), 'utf8'),
    mode: 0o644,
    owner: 'root',
    group: 'root',
    ifMissing: true,
  });

  dir(path.posix.dirname(SITE.sudoersFile), 'sudoers.d');
  items.push({
    kind: 'file',
    path: SITE.sudoersFile,
    what: 'sudoers rule: group docker may run ds01-gpu as root',
    content: renderSudoers(),
    mode: 0o440,
    owner: 'root',
    group: 'root',
    validate: 'sudoers',
  });

  const units: string[] = [];
  if (tree.systemdUnits.length > 0) dir(SITE.systemdDir, 'systemd units');
  if (behindProxy) {
    dir(path.posix.dirname(SITE.dockerSocketDropIn), 'docker.socket drop-ins');
    items.push({
      kind: 'file',
      path: SITE.dockerSocketDropIn,
      what: 'docker.socket drop-in: the daemon socket root-only (applies after systemctl restart docker.socket)',
      content: renderDockerSocketDropIn(),
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
    dir(path.posix.dirname(SITE.profileFile), 'profile.d');
    items.push({
      kind: 'file',
      path: SITE.profileFile,
      what: "login shells' DOCKER_HOST: the user's ds01-docker-proxy socket",
      content: renderProfile(),
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
  }
  for (const unit of tree.systemdUnits) {
    items.push({
      kind: 'file',
      path: path.posix.join(SITE.systemdDir, unit.name),
      what: `systemd unit (${unit.workspace})`,
      content: fs.readFileSync(unit.file, 'utf8'),
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
    units.push(unit.name);
  }
  return { items, units };
}
