import fs from 'node:fs';
import { type ApplyContext, applyDir, applyFile, type ItemResult, removeEntry } from './apply-item.js';
import { scanSourceTree } from './find-bins.js';
import { realDockerPath, SITE, underPrefix } from './layout.js';
import { type Manifest, type ManifestEntry, readManifest, sameEntries, writeManifest } from './manifest.js';
import { planInstall } from './plan-install.js';
import { systemctl, systemdRunning, unitActive } from './services.js';

export interface InstallOptions {
  prefix: string;
  /** The checkout whose bins are installed. */
  source: string;
  dryRun: boolean;
  /** Node binary named in the shims and the docker launcher. */
  nodePath?: string;
  /** The real docker client the launcher runs (default: DS01_REAL_DOCKER, else /usr/bin/docker). */
  realDocker?: string;
}

export interface InstallReport {
  action: 'install' | 'uninstall';
  prefix: string;
  dry_run: boolean;
  /** Nothing was (or would be) changed. */
  unchanged: boolean;
  items: ItemResult[];
  missing_bins: { name: string; why: string }[];
  warnings: string[];
  /** Some item could not be put in place. */
  failed: boolean;
  manifest: string;
}

const now = () => new Date().toISOString();

export async function install(opts: InstallOptions): Promise<InstallReport> {
  const warnings: string[] = [];
  const warn = (m: string) => {
    if (!warnings.includes(m)) warnings.push(m);
  };
  const tree = scanSourceTree(opts.source);
  const prior = readManifest(opts.prefix);
  const priorByPath = new Map((prior?.entries ?? []).map((e) => [e.path, e]));
  const plan = planInstall(tree, opts.nodePath ?? process.execPath, warnings, opts.realDocker ?? realDockerPath(process.env));

  const items: ItemResult[] = [];
  const entries: ManifestEntry[] = [];
  for (const item of plan.items) {
    const ctx: ApplyContext = { prefix: opts.prefix, dryRun: opts.dryRun, prior: priorByPath.get(item.path), warn };
    try {
      const out: { result: ItemResult; entry?: ManifestEntry; parents?: ManifestEntry[] } =
        item.kind === 'dir' ? applyDir(item, ctx) : await applyFile(item, ctx);
      items.push(out.result);
      for (const p of out.parents ?? []) if (!entries.some((e) => e.path === p.path)) entries.push(p);
      if (out.entry) entries.push(out.entry);
      else if (ctx.prior && out.result.status === 'failed') entries.push(ctx.prior);
    } catch (err) {
      items.push({ path: item.path, kind: item.kind, what: item.what, status: 'failed', detail: (err as Error).message });
      if (ctx.prior) entries.push(ctx.prior);
    }
  }

  // What an earlier run installed and this checkout no longer provides (a bin renamed or dropped).
  const planned = new Set(plan.items.map((i) => i.path));
  for (const old of [...(prior?.entries ?? [])].reverse()) {
    if (planned.has(old.path)) continue;
    if (old.kind === 'dir' && [...planned].some((p) => p.startsWith(`${old.path}/`))) {
      entries.push(old); // a parent made for a planned path: still needed
      continue;
    }
    const r = removeEntry(old, opts.prefix, opts.dryRun);
    items.push({ ...r, what: `${r.what} from an earlier install, no longer provided` });
    if (r.status === 'kept' && old.kind === 'dir' && old.created) entries.push(old);
  }

  const enabled = new Set(prior?.enabled_units ?? []);
  const unitChanged = items.some((i) => i.path.startsWith(`${SITE.systemdDir}/`) && (i.status === 'created' || i.status === 'updated'));
  for (const unit of plan.units) {
    const base = { path: `${SITE.systemdDir}/${unit}`, kind: 'unit' as const, what: `service ${unit}` };
    if (opts.prefix !== '/') {
      items.push({ ...base, status: 'skipped', detail: 'not enabled under --prefix' });
      continue;
    }
    if (!systemdRunning()) {
      items.push({ ...base, status: 'skipped', detail: 'systemd is not running; start the watcher by hand' });
      continue;
    }
    const active = await unitActive(unit);
    if (active && !unitChanged) {
      items.push({ ...base, status: 'unchanged', detail: 'active' });
      enabled.add(unit);
      continue;
    }
    if (opts.dryRun) {
      items.push({ ...base, status: active ? 'updated' : 'created', detail: active ? 'would restart' : 'would enable and start' });
      continue;
    }
    await systemctl(['daemon-reload']);
    const res = active ? await systemctl(['restart', unit]) : await systemctl(['enable', '--now', unit]);
    items.push({
      ...base,
      status: res.ok ? (active ? 'updated' : 'created') : 'failed',
      detail: res.ok ? (active ? 'restarted' : 'enabled and started') : res.out,
    });
    if (res.ok) enabled.add(unit);
  }

  for (const m of tree.missing) warn(`${m.name} is not installed: ${m.why}`);

  const manifest: Manifest = {
    tool: 'ds01-install',
    version: 1,
    source: opts.source,
    installed_at: prior?.installed_at ?? now(),
    updated_at: now(),
    entries: entries.sort((a, b) => a.path.localeCompare(b.path)),
    enabled_units: [...enabled].sort(),
  };
  const changed = items.some((i) => i.status !== 'unchanged' && i.status !== 'kept' && i.status !== 'skipped');
  if (!opts.dryRun && (changed || !sameEntries(prior, manifest))) {
    fs.mkdirSync(underPrefix(opts.prefix, SITE.stateDir), { recursive: true });
    writeManifest(opts.prefix, manifest);
  }
  return {
    action: 'install',
    prefix: opts.prefix,
    dry_run: opts.dryRun,
    unchanged: !changed && sameEntries(prior, manifest),
    items,
    missing_bins: tree.missing,
    warnings,
    failed: items.some((i) => i.status === 'failed'),
    manifest: SITE.manifestFile,
  };
}
