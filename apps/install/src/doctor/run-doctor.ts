import { execa } from 'execa';
import { underPrefix } from '../layout.js';
import { checkConfig } from './check-config.js';
import { checkDockerDaemon, checkUsernsRemap } from './check-docker.js';
import { checkBins, checkCron, checkEventLog, checkLogDir, checkLogrotate, checkStateDir, checkSudoers } from './check-files.js';
import { checkNvidiaSmi } from './check-gpus.js';
import { checkRealClient, checkWrapperFirst } from './check-path.js';
import { checkDaemonSocket, checkProxySockets } from './check-proxy.js';
import { checkWatcher } from './check-watcher.js';
import type { CheckResult, DoctorContext } from './types.js';

export interface DoctorReport {
  ok: boolean;
  prefix: string;
  checks: CheckResult[];
  problems: number;
  warnings: number;
}

async function sudoInstalled(): Promise<boolean> {
  const res = await execa('sudo', ['-V'], { reject: false });
  return !(res.failed && (res as { code?: string }).code === 'ENOENT');
}

/** Every check runs, whatever the others found, so one run lists everything to fix. */
export async function runDoctor(opts: { prefix: string; env?: NodeJS.ProcessEnv }): Promise<DoctorReport> {
  const ctx: DoctorContext = { prefix: opts.prefix, env: opts.env ?? process.env, at: (p) => underPrefix(opts.prefix, p) };
  const [docker, userns, gpus, watcher, sudo] = await Promise.all([
    checkDockerDaemon(ctx),
    checkUsernsRemap(ctx),
    checkNvidiaSmi(ctx),
    checkWatcher(ctx),
    sudoInstalled(),
  ]);
  const checks = [
    checkWrapperFirst(ctx),
    checkRealClient(ctx),
    checkBins(ctx),
    docker,
    userns,
    checkDaemonSocket(ctx),
    checkProxySockets(ctx),
    gpus,
    checkConfig(ctx),
    checkLogDir(ctx),
    checkEventLog(ctx),
    checkStateDir(ctx),
    checkCron(ctx),
    checkLogrotate(ctx),
    checkSudoers(ctx, sudo),
    watcher,
  ];
  const problems = checks.filter((c) => c.state === 'fail').length;
  return { ok: problems === 0, prefix: opts.prefix, checks, problems, warnings: checks.filter((c) => c.state === 'warn').length };
}
