import path from 'node:path';

/** Site defaults; every one can be overridden by environment for tests and packaging. */
export const DEFAULT_EVENTS_FILE = '/var/log/ds01/events.jsonl';
export const DEFAULT_STATE_DIR = '/var/lib/ds01';
export const DEFAULT_CONFIG_FILE = '/etc/ds01/resource-limits.yaml';

export function eventsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_EVENTS_FILE || DEFAULT_EVENTS_FILE;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_STATE_DIR || DEFAULT_STATE_DIR;
}

export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_CONFIG || DEFAULT_CONFIG_FILE;
}

export function statePath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), name);
}

/**
 * How the tools run ds01-gpu: `DS01_GPU_BIN`, else `ds01-gpu` on PATH. A
 * JavaScript file (a checkout's dist/bin entry: `.js`, `.cjs`, `.mjs`) runs
 * under this Node, so it needs no executable bit or shebang lookup.
 */
export function gpuBinCommand(env: NodeJS.ProcessEnv = process.env): { file: string; prefix: string[] } {
  const bin = env.DS01_GPU_BIN?.trim() || 'ds01-gpu';
  return /\.[cm]?js$/.test(bin) ? { file: process.execPath, prefix: [bin] } : { file: bin, prefix: [] };
}
