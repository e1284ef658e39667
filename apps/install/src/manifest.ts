import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SITE, underPrefix } from './layout.js';

export interface ManifestEntry {
  path: string;
  kind: 'dir' | 'file' | 'link';
  /** dir: made by ds01-install (removed on uninstall when empty); otherwise it was there before. */
  created?: boolean;
  /** file: what was written, so an edited file is kept on uninstall. */
  sha256?: string;
  /** link: where it points. */
  target?: string;
  /** What stood at the path before (kept under the state directory), restored on uninstall. */
  backup?: string;
}

export interface Manifest {
  tool: 'ds01-install';
  version: 1;
  /** The checkout the bins run from. */
  source: string;
  installed_at: string;
  updated_at: string;
  entries: ManifestEntry[];
  /** systemd units ds01-install enabled (only without --prefix). */
  enabled_units: string[];
}

export const sha256 = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

export function manifestPath(prefix: string): string {
  return underPrefix(prefix, SITE.manifestFile);
}

/** Where the previous occupant of a site path is kept while ds01 is installed. */
export function backupPathFor(sitePath: string): string {
  return path.posix.join(SITE.stateDir, 'install-backup', sitePath);
}

export function readManifest(prefix: string): Manifest | undefined {
  let text: string;
  try {
    text = fs.readFileSync(manifestPath(prefix), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = JSON.parse(text) as Manifest;
  if (m?.tool !== 'ds01-install' || !Array.isArray(m.entries)) {
    throw new Error(`${manifestPath(prefix)} is not a ds01-install manifest`);
  }
  return m;
}

/** Written atomically: an interrupted run leaves the previous manifest, never half of one. */
export function writeManifest(prefix: string, manifest: Manifest): void {
  const file = manifestPath(prefix);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** Compares what matters, not when it was written. */
export function sameEntries(a: Manifest | undefined, b: Manifest): boolean {
  if (!a) return false;
  return JSON.stringify([a.source, a.entries, a.enabled_units]) === JSON.stringify([b.source, b.entries, b.enabled_units]);
}
