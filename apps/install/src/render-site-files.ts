import { SITE } from './layout.js';

/** POSIX shell single quotes: the only character needing care is the quote itself. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A small exec shim rather than a symlink: tsc output is not executable, and
 * naming node by absolute path keeps the bin working under sudo's secure_path
 * and cron's minimal PATH.
 */
export function renderShim(bin: string, nodePath: string, script: string, workspace: string): string {
  return [
    '#!/bin/sh',
    `# Installed by ds01-install: runs ${bin} from ${workspace}. Re-run ds01-install after moving the checkout.`,
    `exec ${shellQuote(nodePath)} ${shellQuote(script)} "$@"`,
    '',
  ].join('\n');
}

/**
 * Rotation by rename, never copytruncate: events-core's writers stat the path
 * before each append and reopen when it names a new file, so nothing written
 * around the rotation is lost. delaycompress keeps yesterday's file
 * uncompressed, so a writer that appended to it just after the rename still
 * lands in a file the readers see (events.jsonl-YYYYMMDD is read like .gz).
 * `su root docker`: logrotate refuses to work in a group-writable directory
 * without it. Behind ds01-docker-proxy the directory and the log are root's
 * alone (users' events come through the proxy).
 */
export function renderLogrotate(behindProxy = false): string {
  const su = behindProxy ? 'root root' : 'root docker';
  return `# Installed by ds01-install. Do not add copytruncate: lines written between
# the copy and the truncate would be lost. ds01 writers reopen the log by path,
# so rotating by rename (create) loses nothing.
${SITE.eventsFile} {
    su ${su}
    daily
    rotate 30
    dateext
    dateformat -%Y%m%d
    compress
    delaycompress
    missingok
    notifempty
    create ${behindProxy ? '0644 root root' : '0664 root docker'}
}

# Output of the maintenance jobs' cron runs (each run opens its log anew).
${SITE.logDir}/*.log {
    su ${su}
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    create 0644 root root
}
`;
}

/**
 * The allocator's state is root-owned, so users reach ds01-gpu through sudo;
 * ds01-gpu itself lets a non-admin act only for themselves (SUDO_USER).
 * env_reset keeps DS01_AS_USER and the DS01_* path overrides out of it.
 */
export function renderSudoers(): string {
  return `# Installed by ds01-install. Members of group docker may run the GPU allocator
# as root without a password: its state under ${SITE.stateDir} is root-owned.
# ds01-gpu only lets a caller allocate, bind, start and release for themselves
# (it reads SUDO_USER); admins may act for anyone. env_reset keeps DS01_*
# variables (DS01_AS_USER, path overrides) from reaching it.
Cmnd_Alias DS01_GPU = ${SITE.binDir}/ds01-gpu
Defaults!DS01_GPU env_reset
%docker ALL=(root) NOPASSWD: DS01_GPU
`;
}

/**
 * docker.socket drop-in: the daemon's socket becomes root:root 0660, so
 * membership of group docker no longer opens it (users keep that group: it
 * lets them append to the event log and run ds01-gpu through sudo). Takes
 * effect when docker.socket is restarted, which the installer leaves to the
 * admin (restarting Docker stops containers unless live-restore is on).
 */
export function renderDockerSocketDropIn(): string {
  return `# Installed by ds01-install: only root may open the Docker daemon's socket.
# Users reach Docker through ds01-docker-proxy (${SITE.proxySocketDir}/<user>/docker.sock),
# which applies ds01's rules to every request. Apply with:
#   systemctl daemon-reload && systemctl restart docker.socket docker
[Socket]
SocketMode=0660
SocketUser=root
SocketGroup=root
`;
}

/** Login shells talk to the user's proxy socket (when the proxy serves one; root and others keep the default). */
export function renderProfile(): string {
  return `# Installed by ds01-install: docker clients (the CLI, compose, SDKs, VS Code)
# talk to ds01-docker-proxy, the only way to the Docker daemon for users.
ds01_user="\${USER:-$(id -un)}"
if [ "$(id -u)" != 0 ] && [ -S "${SITE.proxySocketDir}/\${ds01_user}/docker.sock" ]; then
  DOCKER_HOST="unix://${SITE.proxySocketDir}/\${ds01_user}/docker.sock"
  export DOCKER_HOST
fi
unset ds01_user
`;
}
