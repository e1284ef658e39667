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
