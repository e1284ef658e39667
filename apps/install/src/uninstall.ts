import fs from 'node:fs';
import type { ItemResult } from './apply-item.js';
import { removeEntry } from './apply-item.js';
import type { InstallReport } from './install.js';
import { SITE, underPrefix } from './layout.js';
import { manifestPath, readManifest } from './manifest.js';
import { systemctl, systemdRunning } from './services.js';

/**
 * Removes exactly what the manifest lists, newest first, so directories are
 * emptied before they are tried. Data (the event log, allocator state) is
 * never in the manifest and stays.
 */
export async function uninstall(opts: { prefix: string; dryRun: boolean }): Promise<InstallReport> {
  const manifest = readManifest(opts.prefix);
  const items: ItemResult[] = [];
  const warnings: string[] = [];
  if (!manifest) {
    warnings.push(`no install manifest at ${SITE.manifestFile}${opts.prefix === '/' ? '' : ` under ${opts.prefix}`}: nothing to remove`);
    return {
      action: 'uninstall',
      prefix: opts.prefix,
      dry_run: opts.dryRun,
      unchanged: true,
      items,
      missing_bins: [],
      warnings,
      failed: false,
      manifest: SITE.manifestFile,
    };
  }
  if (opts.prefix === '/' && systemdRunning()) {
    for (const unit of manifest.enabled_units) {
      if (!opts.dryRun) {
        const res = await systemctl(['disable', '--now', unit]);
        items.push({
          path: `${SITE.systemdDir}/${unit}`,
          kind: 'unit',
          what: `service ${unit}`,
          status: res.ok ? 'removed' : 'failed',
          detail: res.ok ? 'stopped and disabled' : res.out,
        });
      } else
        items.push({
          path: `${SITE.systemdDir}/${unit}`,
          kind: 'unit',
          what: `service ${unit}`,
          status: 'removed',
          detail: 'would stop and disable',
        });
    }
  }
  // The manifest goes before the directories so the state directory can empty out.
  const dirs = manifest.entries.filter((e) => e.kind === 'dir');
  for (const entry of [...manifest.entries].reverse()) {
    if (entry.kind === 'dir') continue;
    try {
      items.push(removeEntry(entry, opts.prefix, opts.dryRun));
    } catch (err) {
      items.push({ path: entry.path, kind: entry.kind, what: entry.kind, status: 'failed', detail: (err as Error).message });
    }
  }
  if (!opts.dryRun) {
    fs.rmSync(manifestPath(opts.prefix), { force: true });
    removeEmptyTree(underPrefix(opts.prefix, `${SITE.stateDir}/install-backup`));
  }
  items.push({ path: SITE.manifestFile, kind: 'file', what: 'install manifest', status: 'removed' });
  // Deepest first: /var/log/ds01 before /var/log.
  for (const entry of dirs.sort((a, b) => b.path.length - a.path.length)) items.push(removeEntry(entry, opts.prefix, opts.dryRun));
  if (opts.prefix === '/' && systemdRunning() && !opts.dryRun) await systemctl(['daemon-reload']);
  return {
    action: 'uninstall',
    prefix: opts.prefix,
    dry_run: opts.dryRun,
    unchanged: false,
    items,
    missing_bins: [],
    warnings,
    failed: items.some((i) => i.status === 'failed'),
    manifest: SITE.manifestFile,
  };
}

/** Removes directories left empty by restored backups; a backup that could not be restored stays. */
function removeEmptyTree(dir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return true;
  }
  let empty = true;
  for (const name of names) {
    const p = `${dir}/${name}`;
    if (fs.lstatSync(p).isDirectory() && removeEmptyTree(p)) continue;
    empty = false;
  }
  if (empty) fs.rmdirSync(dir);
  return empty;
}
