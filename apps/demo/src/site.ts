import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_CONFIG, DEMO_GPU_SCENARIO } from './demo-config.js';
import { repoRoot, toolPath } from './tools.js';

export interface DemoSite {
  dir: string;
  configFile: string;
  eventsFile: string;
  stateDir: string;
  /** Everyone's environment: every ds01 path points into the site directory. */
  env: NodeJS.ProcessEnv;
  /** The environment of a tool run on behalf of a user (root acting as them). */
  envAs: (user: string) => NodeJS.ProcessEnv;
}

/** Everything the demo writes lives under one directory (removed at the end unless kept). */
export function prepareSite(opts: { dir?: string; dockerHost: string; realDocker: string }): DemoSite {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-demo-'));
  fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'log'), { recursive: true });
  const configFile = path.join(dir, 'etc', 'resource-limits.yaml');
  fs.writeFileSync(configFile, DEMO_CONFIG);
  const eventsFile = path.join(dir, 'log', 'events.jsonl');
  const stateDir = path.join(dir, 'state');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: 'UTC',
    NO_COLOR: '1',
    DOCKER_HOST: opts.dockerHost,
    DS01_CONFIG: configFile,
    DS01_EVENTS_FILE: eventsFile,
    DS01_STATE_DIR: stateDir,
    DS01_NVIDIA_SMI: path.join(repoRoot, 'test-support/bin/nvidia-smi'),
    DS01_FAKE_GPUS: DEMO_GPU_SCENARIO,
    DS01_REAL_DOCKER: opts.realDocker,
    DS01_GPU_BIN: toolPath('ds01-gpu'),
  };
  return { dir, configFile, eventsFile, stateDir, env, envAs: (user) => ({ ...env, DS01_AS_USER: user }) };
}
