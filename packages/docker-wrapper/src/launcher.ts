import { ANSWER_FD, LAUNCHER_SESSION_ENV, REQUEST_FD } from './create/launcher-session.js';
import { HANDOFF_FD_ENV } from './hand-off.js';
import { EXTRA_CA_CERTS, HIDDEN_EXTRA_CA_CERTS } from './launcher-env.js';
import { DEFAULT_SOCKET_DIR } from './proxy/proxy-settings.js';
import { WRAPPER_MARKER } from './real-docker.js';
import { shellQuote } from './shell-quote.js';
import { createWords, passThroughWords, proxyDecidedWords } from './verb-table.js';

export interface LauncherOptions {
  /** The real docker client (resolved at install time, not from the environment). */
  realDocker: string;
  /** The node binary. */
  node: string;
  /** The wrapper's entry (dist/bin/ds01-docker.cjs). */
  wrapper: string;
  /** Where ds01-docker-proxy puts the users' sockets (`docker_proxy.socket_dir`; default /run/ds01/docker). */
  proxySocketDir?: string;
}

/** The switches only the wrapper can refuse and log when a user sets them (context.ts, config-override.ts, events-core identity). */
const WRAPPER_SWITCHES = ['DS01_WRAPPER_BYPASS', 'DS01_ISOLATION_MODE', 'DS01_AS_USER', 'DS01_CONFIG'];

/**
 * On a site with ds01-docker-proxy, a user's own socket applies every rule
 * to each request, with the same modules and the same rule names as the
 * wrapper (README: "The policy boundary"), and the daemon's socket is closed
 * to users. For the verbs the proxy decides as the wrapper would
 * (verb-table.ts proxyDecidedWords), the wrapper in front of it would check
 * the same command a second time and cost a Node start: the launcher
 * instead runs the real client on the caller's socket, as the wrapper would
 * (DOCKER_HOST outranks DOCKER_CONTEXT and a config's current context).
 * Only for a caller who is not root, whose socket directory they own (so a
 * USER naming someone else finds none), and who set none of the switches
 * the wrapper must see. Builtins only: no process is started to decide.
 * Pass-through verbs get the caller's socket too, as the wrapper's verbs do:
 * without it, where no login shell set DOCKER_HOST (cron, a service), `docker
 * images` would try the daemon's socket, closed to users, while `docker ps`
 * worked.
 */
function proxyRoute(socketDir: string): string {
  const sw = WRAPPER_SWITCHES.map((name) => `\${${name}+x}`).join('');
  return `ds01_proxy() {
  [ -O / ] && return 1
  [ -z "${sw}" ] || return 1
  case \${USER-} in ''|*/*|.|..) return 1 ;; esac
  ds01_s=${shellQuote(socketDir)}/$USER
  [ -O "$ds01_s" ] && [ -S "$ds01_s/docker.sock" ] || return 1
  DOCKER_HOST=unix://$ds01_s/docker.sock
  export DOCKER_HOST
  unset DOCKER_CONTEXT
}`;
}

/**
 * The allocator session the launcher starts for a command line that
 * mentions --gpus, before Node has started (see create/launcher-session.ts
 * for what the wrapper does with it). Every FIFO end is opened here, by the
 * user's shell, before the allocator starts: the allocator (root, through
 * sudo) never opens a path in the user's directory, and no open waits for
 * the other end. The allocator runs as the wrapper would run it
 * (gpuCommand: DS01_GPU_BIN, a .js one under this node, `sudo -n` unless
 * root), in a double fork, so it is nobody's child
 * once the wrapper has gone. Anything unusual (a DS01_GPU_BIN with spaces,
 * no mktemp) starts nothing: the wrapper then starts its own. The FIFOs
 * are opened with `command exec`: a failed redirection on a bare exec would
 * end the shell, and the docker command with it.
 */
function sessionFunctions(node: string): string {
  const [req, ans] = [REQUEST_FD, ANSWER_FD];
  return `ds01_gpu_start() {
  ds01_g=\${DS01_GPU_BIN:-ds01-gpu}
  if [ -O / ]; then set --; else set -- sudo -n; fi
  case $ds01_g in
    *.js|*.cjs|*.mjs) exec "$@" ${shellQuote(node)} "$ds01_g" allocate --stdin --json ;;
  esac
  exec "$@" "$ds01_g" allocate --stdin --json
}
ds01_gpu_session() {
  case \${DS01_GPU_BIN-} in *[[:space:]]*) return 0 ;; esac
  for ds01_a do
    case $ds01_a in --gpus|--gpus=*) ;; *) continue ;; esac
    ds01_d=$(mktemp -d "\${TMPDIR:-/tmp}/ds01-gpu.XXXXXXXX" 2>/dev/null) || return 0
    mkfifo "$ds01_d/req" "$ds01_d/ans" 2>/dev/null || { rm -rf "$ds01_d"; return 0; }
    command exec ${req}<>"$ds01_d/req" ${ans}<>"$ds01_d/ans" 5<"$ds01_d/req" 6>"$ds01_d/ans" 9>"$ds01_d/err" ||
      { exec 5<&- 6>&- 9>&- ${req}>&- ${ans}>&-; rm -rf "$ds01_d"; return 0; }
    ( ds01_gpu_start <&5 >&6 2>&9 5<&- 6>&- 9>&- ${req}>&- ${ans}>&- & )
    exec 5<&- 6>&- 9>&-
    ${LAUNCHER_SESSION_ENV}=$ds01_d
    export ${LAUNCHER_SESSION_ENV}
    return 0
  done
}`;
}

/**
 * Node 20 reads and parses the CA bundle NODE_EXTRA_CA_CERTS names at every
 * start, TLS or not: about 45 ms on a site that sets it for everyone. Neither
 * the wrapper nor the allocator makes a TLS connection, so they start without
 * it; the wrapper hands it back to the real client (launcher-env.ts), which
 * may pass it on (`docker run -e NODE_EXTRA_CA_CERTS`). Set but empty stays
 * set but empty.
 */
const hideExtraCaCerts = `if [ -n "\${${EXTRA_CA_CERTS}+set}" ]; then
  ${HIDDEN_EXTRA_CA_CERTS}=$${EXTRA_CA_CERTS}
  export ${HIDDEN_EXTRA_CA_CERTS}
  unset ${EXTRA_CA_CERTS}
fi`;

/**
 * Every other command (not run/create, no leading global flag): the wrapper
 * runs with a pipe on fd 3, its stdout on the caller's, and says on the pipe
 * what to do: exec the real client (hand-off.ts), or exit with its status
 * when it refused, answered itself or ran the client itself. It runs in the
 * background of the command substitution, so the launcher goes on once the
 * pipe closes, while Node is still tearing down; a background command's
 * stdin would be /dev/null, so it gets the caller's through fd 5. Node
 * resets the signal dispositions sh sets for background jobs. No answer
 * (Node killed) is a failure. The caller's own fds 3 to 5 are untouched for
 * the real client.
 */
function handOffToWrapper(node: string, wrapper: string): string {
  const run = `${HANDOFF_FD_ENV}=3 ${shellQuote(node)} ${shellQuote(wrapper)} "$@" 3>&1 1>&4 4>&- 0<&5 5<&-`;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax for the launcher, not a JS template
  return [`{ ds01_run=$(${run} &); } 4>&1 5<&0`, 'eval "${ds01_run:-exit 1}"'].join('\n');
}

/**
 * The `docker` command itself: a POSIX sh script that hands the verbs the
 * wrapper never inspects straight to the real client (no Node start), starts
 * the allocator of a GPU run/create at once and execs the wrapper for those
 * (it stays to bind or release the GPUs once the container exists), and
 * execs the real client itself for everything else the wrapper approves.
 * Generated from the verb table, so the two cannot disagree; a leading
 * global flag always goes to the wrapper as it is.
 */
export function renderLauncher(opts: LauncherOptions): string {
  const { verbs, groups } = createWords();
  const proxied = proxyDecidedWords();
  const real = shellQuote(opts.realDocker);
  const toWrapper = `exec ${shellQuote(opts.node)} ${shellQuote(opts.wrapper)} "$@"`;
  return [
    '#!/bin/sh',
    `# ${WRAPPER_MARKER} launcher, generated from the verb table by ds01-docker: do not edit.`,
    `unset ${LAUNCHER_SESSION_ENV} ${HIDDEN_EXTRA_CA_CERTS}`,
    sessionFunctions(opts.node),
    proxyRoute(opts.proxySocketDir ?? DEFAULT_SOCKET_DIR),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax for the launcher, not a JS template
    'case "${1-}" in',
    `  ${passThroughWords().join('|')})`,
    `    ds01_proxy\n    exec ${real} "$@" ;;`,
    `  ${proxied.verbs.join('|')})`,
    `    ds01_proxy && exec ${real} "$@" ;;`,
    ...Object.entries(proxied.groups).map(([group, kept]) =>
      kept.length > 0
        ? `  ${group})\n    case "\${2-}" in ${kept.join('|')}) ;; *) ds01_proxy && exec ${real} "$@" ;; esac ;;`
        : `  ${group})\n    ds01_proxy && exec ${real} "$@" ;;`,
    ),
    'esac',
    hideExtraCaCerts,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax for the launcher, not a JS template
    'case "${1-}" in',
    `  ${verbs.join('|')})`,
    `    ds01_gpu_session "$@"\n    ${toWrapper} ;;`,
    ...Object.entries(groups).map(
      ([group, sub]) => `  ${group})\n    case "\${2-}" in ${sub.join('|')}) ds01_gpu_session "$@"; ${toWrapper} ;; esac ;;`,
    ),
    '  -*)',
    `    ${toWrapper} ;;`,
    'esac',
    handOffToWrapper(opts.node, opts.wrapper),
    '',
  ].join('\n');
}
