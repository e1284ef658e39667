import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../paths.js';

/**
 * The part of the site config that every `docker` command needs (who is an
 * administrator, the wrapper's policy, where the proxy's sockets are), kept
 * as JSON beside the state so that the wrapper need not load a YAML parser
 * to learn it: parsing even a short file costs a cold `yaml` some 10 ms of
 * a command whose whole allowance is one Node start and one API call.
 *
 * Root's tools write it whenever they have loaded and validated the config
 * (loadSiteConfig: the allocator on every GPU request, the cron jobs every
 * few minutes), and it names the exact file it was made from (device,
 * inode, size, modification and change times to the nanosecond). A reader
 * takes it only when it is root's, writable by nobody else, and the config
 * is still that very file: after any edit it is stale until root's next
 * load, and the wrapper parses the YAML meanwhile.
 */
export interface AccessSnapshot {
  access_control: unknown;
  /** `docker_proxy.socket_dir`, when the config sets one. */
  proxy_socket_dir?: string;
}

interface SnapshotFile extends AccessSnapshot {
  v: 1;
  config: string;
  stat: string;
}

export const ACCESS_SNAPSHOT_FILE = 'site-access.json';

const snapshotPath = (env: NodeJS.ProcessEnv) => path.join(stateDir(env), ACCESS_SNAPSHOT_FILE);

const versionOf = (s: fs.BigIntStats) => [s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':');

/** What identifies one version of the file; undefined when it cannot be read. */
export function fileVersion(file: string): string | undefined {
  try {
    return versionOf(fs.statSync(file, { bigint: true }));
  } catch {
    return undefined;
  }
}

// File times come from the kernel's coarse clock (one tick: up to 10 ms), so
// an edit in the same tick as the one read could keep every part of the
// version. A version is worth recording only once its change time is a
// margin older than the read ("racy" entries, as git calls them): any later
// edit then has a later change time.
const RACY_MARGIN_NS = 100_000_000n;

/** The file's version, when it is old enough to tell every later edit apart (else undefined: record nothing). */
export function settledFileVersion(file: string): string | undefined {
  try {
    const s = fs.statSync(file, { bigint: true });
    return s.ctimeNs > BigInt(Date.now()) * 1_000_000n - RACY_MARGIN_NS ? undefined : versionOf(s);
  } catch {
    return undefined;
  }
}

/** The snapshot for `file` as it is now, or undefined (none, stale, or not to be trusted). */
export function readAccessSnapshot(file: string, env: NodeJS.ProcessEnv = process.env): AccessSnapshot | undefined {
  try {
    const p = snapshotPath(env);
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) return undefined;
      const snap = JSON.parse(fs.readFileSync(fd, 'utf8')) as SnapshotFile;
      if (snap?.v !== 1 || snap.config !== path.resolve(file) || snap.stat !== fileVersion(file)) return undefined;
      const out: AccessSnapshot = { access_control: snap.access_control ?? null };
      if (typeof snap.proxy_socket_dir === 'string') out.proxy_socket_dir = snap.proxy_socket_dir;
      return out;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Records the snapshot of `file`, read at `version` (settledFileVersion,
 * taken before the read), when this process is root and the file is still
 * at that version (it did not change while it was read). Best effort: a
 * state dir that does not exist or cannot be written just leaves readers to
 * parse the YAML.
 */
export function writeAccessSnapshot(
  file: string,
  version: string | undefined,
  raw: { access_control?: unknown; docker_proxy?: unknown },
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || !version || fileVersion(file) !== version) return;
  const proxy = raw.docker_proxy as { socket_dir?: unknown } | null | undefined;
  const snap: SnapshotFile = { v: 1, config: path.resolve(file), stat: version, access_control: raw.access_control ?? null };
  if (typeof proxy?.socket_dir === 'string') snap.proxy_socket_dir = proxy.socket_dir;
  const p = snapshotPath(env);
  const text = `${JSON.stringify(snap)}\n`;
  try {
    if (fs.readFileSync(p, 'utf8') === text) return;
  } catch {
    // None yet: write it.
  }
  const tmp = `${p}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, p);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
