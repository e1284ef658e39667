import path from 'node:path';

/**
 * Where things go on the site. Every path is absolute as seen on the installed
 * host; `--prefix` only changes where the bytes are written (like DESTDIR), so
 * a tree installed under a prefix can be packaged and still name /usr/local/bin
 * in its cron entries and sudoers rule.
 */
export const SITE = {
  binDir: '/usr/local/bin',
  cronDir: '/etc/cron.d',
  logrotateFile: '/etc/logrotate.d/ds01',
  configDir: '/etc/ds01',
  configFile: '/etc/ds01/resource-limits.yaml',
  sudoersFile: '/etc/sudoers.d/ds01',
  systemdDir: '/etc/systemd/system',
  logDir: '/var/log/ds01',
  eventsFile: '/var/log/ds01/events.jsonl',
  stateDir: '/var/lib/ds01',
  manifestFile: '/var/lib/ds01/install-manifest.json',
  /** Users' shells point DOCKER_HOST at their ds01-docker-proxy socket. */
  profileFile: '/etc/profile.d/ds01-docker.sh',
  /** Makes the daemon's own socket root-only, so the proxy is the only way in. */
  dockerSocketDropIn: '/etc/systemd/system/docker.socket.d/ds01.conf',
  /** ds01-docker-proxy's per-user sockets: <dir>/<user>/docker.sock. */
  proxySocketDir: '/run/ds01/docker',
  /** Docker's own client, unless DS01_REAL_DOCKER names another. */
  realDocker: '/usr/bin/docker',
} as const;

/**
 * The real docker client, as the wrapper finds it (DS01_REAL_DOCKER, else
 * /usr/bin/docker): the launcher the installer writes execs it, and the
 * doctor checks it.
 */
export function realDockerPath(env: NodeJS.ProcessEnv): string {
  return env.DS01_REAL_DOCKER?.trim() || SITE.realDocker;
}

/** Modes and owners the installer sets and the doctor checks. */
export const DIR_MODES = {
  /** setgid + group-writable: the wrapper appends events as each user; files stay group docker. */
  logDir: { mode: 0o2775, owner: 'root', group: 'docker' },
  /**
   * With ds01-docker-proxy the log is root's alone: the wrapper's events reach
   * it through the caller's proxy socket, so no user can append forged lines.
   */
  logDirBehindProxy: { mode: 0o755, owner: 'root', group: 'root' },
  /** Allocator and job state: written by root only (users reach ds01-gpu through sudo). */
  stateDir: { mode: 0o755, owner: 'root', group: 'root' },
  configDir: { mode: 0o755, owner: 'root', group: 'root' },
} as const;

/** Bins the site is made of (contracts.md), in the order they are reported. */
export const EXPECTED_BINS = [
  'ds01-docker',
  'ds01-gpu',
  'ds01-events',
  'ds01-idle',
  'ds01-runtime',
  'ds01-cleanup',
  'ds01-docker-watch',
  'ds01-docker-proxy',
  'ds01-install',
] as const;

/** The wrapper, in front of which the launcher is installed under the client's name. */
export const WRAPPER_BIN = 'ds01-docker';
export const DOCKER_NAME = 'docker';
/** The server-side boundary: with it installed, the daemon socket becomes root-only. */
export const PROXY_BIN = 'ds01-docker-proxy';

export function underPrefix(prefix: string, sitePath: string): string {
  return prefix === '/' ? sitePath : path.join(prefix, sitePath);
}
