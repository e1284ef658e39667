import fs from 'node:fs';
import path from 'node:path';
import { splitCsv } from './gpu-request.js';

/** A host path a container would get, and the flag that asked for it. */
export interface HostMount {
  source: string;
  flag: string;
}

/** Host paths from `-v SRC:DST[:opts]` (a source starting with / or . is a host path; else it is a named volume). */
export function volumeFlagSource(value: string, cwd: string): string | null {
  const parts = value.split(':');
  if (parts.length < 2) return null;
  const src = parts[0]!;
  if (src.startsWith('/')) return src;
  if (src === '.' || src === '..' || src.startsWith('./') || src.startsWith('../') || src.startsWith('~')) return path.resolve(cwd, src);
  return null;
}

/**
 * Volume driver options that make the local driver bind a host path
 * (`device=…`, or `o=` with `bind`), as `[key, value]` pairs from the
 * command line (`-o`, `volume-opt`) or the API (`DriverOpts`).
 */
export function bindsHostPath(options: Iterable<readonly [string, unknown]>): boolean {
  for (const [k, v] of options) {
    const key = k.toLowerCase();
    if (key === 'device' || (key === 'o' && /\bbind\b/i.test(String(v)))) return true;
  }
  return false;
}

/** `KEY=VALUE` strings as `[key, value]` pairs, duplicates kept (a bare `KEY` sets no option). */
export function optionPairs(entries: readonly string[]): [string, string][] {
  return entries.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]);
}

export interface MountSpec {
  type: string;
  source?: string;
  /** `volume-opt`s, which let the local driver bind any host path. */
  volumeOpts: string[];
  /** `volume-driver` and `volume-label`s: what docker creates a missing volume with. */
  volumeDriver?: string;
  volumeLabels: string[];
}

export function parseMountFlag(value: string): MountSpec {
  const spec: MountSpec = { type: 'volume', volumeOpts: [], volumeLabels: [] };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (key === 'type') spec.type = val.toLowerCase();
    else if (key === 'source' || key === 'src') spec.source = val;
    else if (key === 'volume-opt') spec.volumeOpts.push(val);
    else if (key === 'volume-driver') spec.volumeDriver = val;
    else if (key === 'volume-label') spec.volumeLabels.push(val);
  }
  return spec;
}

/** The path with symlinks resolved as far as it exists (docker creates what is missing). */
function realish(p: string): string {
  let cur = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return path.resolve(p);
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

const inside = (child: string, parent: string) => child === parent || parent === '/' || child.startsWith(`${parent}/`);

/**
 * The denied path this host path touches: it is one, lies inside one, or
 * contains one (mounting /var exposes /var/run/docker.sock). Symlinks are
 * followed on both sides. null when allowed.
 */
export function deniedHostPath(source: string, denied: readonly string[]): string | null {
  return deniedRealPath(realish(source), denied);
}

/** deniedHostPath for a path whose links are already resolved (realish). */
function deniedRealPath(real: string, denied: readonly string[]): string | null {
  for (const d of denied) {
    for (const form of new Set([path.resolve(d), realish(d)])) {
      if (form === '/') {
        if (real === '/') return d;
        continue;
      }
      if (inside(real, form) || inside(form, real)) return d;
    }
  }
  return null;
}

/** The host paths a user may bind-mount, and those no one may: `access_control.wrapper` filled in for one user. */
export interface BindPolicy {
  denied: readonly string[];
  /** null: no allow list (anything not denied). */
  allowed: readonly string[] | null;
}

/**
 * Why a host path may not be mounted (a phrase that follows "which"), or
 * null: it touches a denied path, or lies outside every allowed one. Links
 * are followed on both sides, as the engine follows them.
 */
export function hostPathProblem(source: string, policy: BindPolicy): string | null {
  // Resolved once, for both lists.
  const real = realish(source);
  const hit = deniedRealPath(real, policy.denied);
  if (hit) return `exposes ${hit}`;
  if (policy.allowed === null) return null;
  if (policy.allowed.some((a) => inside(real, path.resolve(a)) || inside(real, realish(a)))) return null;
  const where = policy.allowed.length > 0 ? policy.allowed.join(', ') : 'none';
  return `is outside the host paths you may mount (${where})`;
}
