import fs from 'node:fs';
import { shellQuote } from './render-site-files.js';

/**
 * The `docker` command the installer writes: the docker wrapper's launcher,
 * a small sh script that execs the real client for the verbs the wrapper
 * never inspects (no Node start), starts the GPU allocator early for a
 * `run/create --gpus`, and execs the wrapper for everything else. The wrapper
 * package renders it at build time with placeholders
 * (packages/docker-wrapper/scripts/write-launcher-template.mjs); the installer
 * reads that file from the checkout, since apps do not import workspace
 * packages, and fills in the site's paths.
 */
export const LAUNCHER_TEMPLATE = 'dist/docker-launcher.sh.in';

/** In the launcher's second line; the wrapper's loop check looks for it too (WRAPPER_MARKER). */
export const LAUNCHER_MARKER = 'ds01-docker-wrapper launcher';

export interface LauncherValues {
  /** The real docker client, as on the host. */
  realDocker: string;
  /** The node binary the shims run. */
  node: string;
  /** The wrapper's built entry (the ds01-docker bin's script). */
  wrapper: string;
  /** Where ds01-docker-proxy puts the users' sockets: the launcher sends the verbs the proxy decides straight to a user's own. */
  proxySocketDir: string;
}

/** Each placeholder as the template holds it: single-quoted, as renderLauncher quotes every value. */
const PLACEHOLDERS: Record<keyof LauncherValues, string> = {
  realDocker: "'@DS01_REAL_DOCKER@'",
  node: "'@DS01_NODE@'",
  wrapper: "'@DS01_WRAPPER@'",
  proxySocketDir: "'@DS01_PROXY_SOCKET_DIR@'",
};

const LEFT_OVER = /@DS01_[A-Z0-9_]*@/;

/** The launcher with the site's paths, or why the template cannot make one. */
export function renderDockerLauncher(template: string, values: LauncherValues): { text: string } | { problem: string } {
  if (!template.startsWith('#!/bin/sh\n') || !template.includes(LAUNCHER_MARKER)) {
    return { problem: `it is not the docker wrapper's launcher (no #!/bin/sh line or no "${LAUNCHER_MARKER}" marker)` };
  }
  let text = template;
  // split/join, not replace: a path may hold `$&` and the like.
  for (const key of Object.keys(PLACEHOLDERS) as (keyof LauncherValues)[])
    text = text.split(PLACEHOLDERS[key]).join(shellQuote(values[key]));
  const left = LEFT_OVER.exec(text)?.[0];
  if (left) return { problem: `${left} is left after filling in the paths (the template and this installer disagree)` };
  return { text };
}

/** Larger than any launcher: the real client is a large binary, and is never read. */
const MAX_LAUNCHER_BYTES = 64 * 1024;

/**
 * What a file is, if it is a ds01 launcher: the wrapper script its last exec
 * runs (undefined when it names none). Undefined for anything else.
 */
export function readLauncher(file: string): { wrapper: string | undefined } | undefined {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_LAUNCHER_BYTES) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.includes(LAUNCHER_MARKER)) return undefined;
  return { wrapper: execScript(text) };
}

const QUOTED = `'(?:[^']|'\\\\'')*'`;
const EXEC_LINE = new RegExp(`^exec ${QUOTED} (${QUOTED}) "\\$@"$`, 'm');

/**
 * The script of an `exec '<node>' '<script>' "$@"` line, as the shims and
 * the launcher's last line have it (each value quoted by shellQuote).
 */
export function execScript(text: string): string | undefined {
  const quoted = EXEC_LINE.exec(text)?.[1];
  return quoted?.slice(1, -1).replaceAll(`'\\''`, "'");
}
