import { WRAPPER_MARKER } from './real-docker.js';
import { passThroughWords } from './verb-table.js';

export interface LauncherOptions {
  /** The real docker client (resolved at install time, not from the environment). */
  realDocker: string;
  /** The node binary. */
  node: string;
  /** The wrapper's entry (dist/bin/ds01-docker.cjs). */
  wrapper: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The `docker` command itself: a POSIX sh script that hands the verbs the
 * wrapper never inspects straight to the real client (no Node start), and
 * everything else to the wrapper. Generated from the verb table, so the two
 * cannot disagree; a leading global flag always goes to the wrapper.
 */
export function renderLauncher(opts: LauncherOptions): string {
  const words = passThroughWords();
  return [
    '#!/bin/sh',
    `# ${WRAPPER_MARKER} launcher, generated from the verb table by ds01-docker: do not edit.`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax for the launcher, not a JS template
    'case "${1-}" in',
    `  ${words.join('|')})`,
    `    exec ${q(opts.realDocker)} "$@" ;;`,
    'esac',
    `exec ${q(opts.node)} ${q(opts.wrapper)} "$@"`,
    '',
  ].join('\n');
}
