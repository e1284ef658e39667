import fs from 'node:fs';
import path from 'node:path';
import { underPrefix } from './layout.js';
import { backupPathFor, type ManifestEntry, sha256 } from './manifest.js';
import { gidOf, isRoot, uidOf } from './owners.js';
import type { DirItem, FileItem, PlanItem } from './plan-install.js';
import { validateSudoers } from './validate-sudoers.js';

export type ItemStatus = 'created' | 'updated' | 'unchanged' | 'kept' | 'removed' | 'restored' | 'failed' | 'skipped';

export interface ItemResult {
  path: string;
  /** link: what earlier installs made of `docker` (now a file), found in their manifests. */
  kind: PlanItem['kind'] | 'link' | 'unit';
  what: string;
  status: ItemStatus;
  detail?: string;
}

export interface ApplyContext {
  prefix: string;
  dryRun: boolean;
  /** The entry the previous run recorded for this path, if any. */
  prior: ManifestEntry | undefined;
  warn: (msg: string) => void;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const canChown = isRoot();

function ids(owner: string, group: string, warn: (m: string) => void): { uid: number; gid: number } {
  const uid = uidOf(owner) ?? 0;
  let gid = gidOf(group);
  if (gid === undefined) {
    warn(`group ${group} does not exist; using root (create it: groupadd --system ${group}, then re-run)`);
    gid = 0;
  }
  return { uid, gid };
}

function ownedRight(st: fs.Stats, want: { uid: number; gid: number }): boolean {
  return !canChown || (st.uid === want.uid && st.gid === want.gid);
}

function ensureParent(real: string): void {
  fs.mkdirSync(path.dirname(real), { recursive: true, mode: 0o755 });
}

/** Keeps whatever stood at the path before ds01 replaced it; rename when possible, copy across filesystems. */
function saveBackup(prefix: string, sitePath: string): string {
  const backup = backupPathFor(sitePath);
  const realBackup = underPrefix(prefix, backup);
  ensureParent(realBackup);
  const real = underPrefix(prefix, sitePath);
  const st = fs.lstatSync(real);
  fs.rmSync(realBackup, { force: true });
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(real), realBackup);
    return backup;
  }
  try {
    // A second name for the same inode: restoring it brings back the very file (mode, owner, times).
    fs.linkSync(real, realBackup);
  } catch {
    fs.copyFileSync(real, realBackup);
    fs.chmodSync(realBackup, st.mode & 0o7777);
    if (canChown) fs.chownSync(realBackup, st.uid, st.gid);
    fs.utimesSync(realBackup, st.atime, st.mtime);
  }
  return backup;
}

/** Site paths of the missing directories above `sitePath` (outermost first), which mkdir -p would make. */
function missingAncestors(prefix: string, sitePath: string): string[] {
  const out: string[] = [];
  for (let p = path.posix.dirname(sitePath); p !== '/' && !lstatOrNull(underPrefix(prefix, p)); p = path.posix.dirname(p)) out.unshift(p);
  return out;
}

export function applyDir(item: DirItem, ctx: ApplyContext): { result: ItemResult; entry?: ManifestEntry; parents?: ManifestEntry[] } {
  const real = underPrefix(ctx.prefix, item.path);
  const base = { path: item.path, kind: item.kind, what: item.what };
  const st = lstatOrNull(real);
  const want = ids(item.owner, item.group, ctx.warn);
  if (st && !st.isDirectory()) {
    return { result: { ...base, status: 'failed', detail: 'exists and is not a directory' } };
  }
  let status: ItemStatus;
  let parents: ManifestEntry[] = [];
  if (!st) {
    status = 'created';
    // Recorded so that --uninstall under a prefix leaves no empty usr/local behind.
    parents = missingAncestors(ctx.prefix, item.path).map((p) => ({ path: p, kind: 'dir', created: true }));
    if (!ctx.dryRun) {
      fs.mkdirSync(real, { recursive: true, mode: 0o755 });
      fs.chmodSync(real, item.mode); // mkdir's mode passes through the umask and drops setgid
      if (canChown) fs.chownSync(real, want.uid, want.gid);
    }
  } else if (item.enforce && ((st.mode & 0o7777) !== item.mode || !ownedRight(st, want))) {
    status = 'updated';
    if (!ctx.dryRun) {
      if (canChown) fs.chownSync(real, want.uid, want.gid);
      fs.chmodSync(real, item.mode); // after chown, which clears setgid
    }
  } else status = 'unchanged';
  const created = ctx.prior?.created ?? status === 'created';
  const detail = item.enforce ? `${item.owner}:${item.group} ${item.mode.toString(8).padStart(4, '0')}` : undefined;
  return {
    result: { ...base, status, ...(detail ? { detail } : {}) },
    entry: created || item.enforce ? { path: item.path, kind: 'dir', created } : undefined,
    parents,
  };
}

/**
 * Written beside the old path and renamed over it, so the path always names
 * either the old file or the new one (`docker` never disappears). What stood
 * there before and is not ds01's is kept under the state directory and
 * restored by --uninstall.
 */
export async function applyFile(item: FileItem, ctx: ApplyContext): Promise<{ result: ItemResult; entry?: ManifestEntry }> {
  const real = underPrefix(ctx.prefix, item.path);
  const base = { path: item.path, kind: item.kind, what: item.what };
  if (item.refused) return { result: { ...base, status: 'failed', detail: item.refused } };
  const st = lstatOrNull(real);
  if (st?.isDirectory()) return { result: { ...base, status: 'failed', detail: 'a directory stands at this path' } };
  const hash = sha256(item.content);
  const want = ids(item.owner, item.group, ctx.warn);
  const current = st?.isFile() ? fs.readFileSync(real) : undefined;
  const currentHash = current ? sha256(current) : undefined;
  // What the last run wrote: this file, or the docker → ds01-docker link that earlier installs made instead.
  const ourLink = ctx.prior?.kind === 'link' && !!st?.isSymbolicLink() && fs.readlinkSync(real) === ctx.prior.target;
  const ours = (ctx.prior?.kind === 'file' && ctx.prior.sha256 === currentHash) || ourLink;

  if (item.ifMissing && st) {
    // Ours and untouched: keep tracking it. Edited or someone else's: the admin's file now.
    if (ours) return { result: { ...base, status: 'unchanged' }, entry: ctx.prior };
    return { result: { ...base, status: 'kept', detail: 'a config already exists; not overwritten' } };
  }
  if (st && currentHash === hash && (st.mode & 0o7777) === item.mode && ownedRight(st, want)) {
    return { result: { ...base, status: 'unchanged' }, entry: { path: item.path, kind: 'file', sha256: hash, ...backupOf(ctx) } };
  }
  if (item.validate === 'sudoers') {
    const problem = await validateSudoers(item.content);
    if (problem) return { result: { ...base, status: 'failed', detail: `not installed: visudo rejects it: ${problem}` } };
  }
  let backup = ctx.prior?.backup;
  let detail: string | undefined;
  if (st && !ours && !backup) {
    detail = `the previous ${st.isSymbolicLink() ? `link (→ ${fs.readlinkSync(real)})` : 'file'} is kept as ${backupPathFor(item.path)} and restored by --uninstall`;
    if (!ctx.dryRun) backup = saveBackup(ctx.prefix, item.path);
  } else if (ourLink) detail = `replaces the link (→ ${ctx.prior?.target}) an earlier install made`;
  if (!ctx.dryRun) {
    ensureParent(real);
    const tmp = path.join(path.dirname(real), `.${path.basename(real)}.ds01-tmp-${process.pid}`);
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, item.content, { mode: item.mode });
    fs.chmodSync(tmp, item.mode);
    if (canChown) fs.chownSync(tmp, want.uid, want.gid);
    fs.renameSync(tmp, real);
  }
  return {
    result: { ...base, status: st ? 'updated' : 'created', ...(detail ? { detail } : {}) },
    entry: { path: item.path, kind: 'file', sha256: hash, ...(backup ? { backup } : {}) },
  };
}

function backupOf(ctx: ApplyContext): { backup?: string } {
  return ctx.prior?.backup ? { backup: ctx.prior.backup } : {};
}

/**
 * Undoes one manifest entry: a file only if it still holds what was written,
 * a link only if it still points where it was set, a directory only if it was
 * created here and is empty. What stood there before comes back.
 */
export function removeEntry(entry: ManifestEntry, prefix: string, dryRun: boolean): ItemResult {
  const real = underPrefix(prefix, entry.path);
  const base = { path: entry.path, kind: entry.kind, what: entry.kind === 'dir' ? 'directory' : entry.kind };
  const st = lstatOrNull(real);
  if (entry.kind === 'dir') {
    if (!entry.created) return { ...base, status: 'kept', detail: 'existed before ds01-install' };
    if (!st) return { ...base, status: 'unchanged', detail: 'already gone' };
    const left = fs.readdirSync(real);
    if (left.length > 0)
      return { ...base, status: 'kept', detail: `not empty (${left.length} entr${left.length === 1 ? 'y' : 'ies'}, e.g. ${left[0]})` };
    if (!dryRun) fs.rmdirSync(real);
    return { ...base, status: 'removed' };
  }
  let matches = false;
  if (st && entry.kind === 'file' && st.isFile()) matches = sha256(fs.readFileSync(real)) === entry.sha256;
  if (st && entry.kind === 'link' && st.isSymbolicLink()) matches = fs.readlinkSync(real) === entry.target;
  if (st && !matches) return { ...base, status: 'kept', detail: 'changed since it was installed' };
  const realBackup = entry.backup ? underPrefix(prefix, entry.backup) : undefined;
  if (realBackup && lstatOrNull(realBackup)) {
    // Renamed over ours in one step, so the previous client is back without a gap.
    if (!dryRun) fs.renameSync(realBackup, real);
    return { ...base, status: 'restored', detail: `the file that was there before is back (from ${entry.backup})` };
  }
  if (!st) return { ...base, status: 'unchanged', detail: 'already gone' };
  if (!dryRun) fs.rmSync(real);
  return { ...base, status: 'removed' };
}
