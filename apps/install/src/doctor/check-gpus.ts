import { execa } from 'execa';
import type { CheckResult, DoctorContext } from './types.js';

/** Counts from `nvidia-smi -L`: GPUs, those split into MIG, and MIG slices. */
export function countGpus(listing: string): { gpus: number; migGpus: number; slices: number } {
  let gpus = 0;
  let migGpus = 0;
  let slices = 0;
  let sawMigUnderCurrent = false;
  for (const line of listing.split('\n')) {
    if (/^GPU \d+:/.test(line)) {
      gpus++;
      sawMigUnderCurrent = false;
    } else if (/^\s+MIG\s/.test(line)) {
      slices++;
      if (!sawMigUnderCurrent) migGpus++;
      sawMigUnderCurrent = true;
    }
  }
  return { gpus, migGpus, slices };
}

export async function checkNvidiaSmi(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'GPUs (nvidia-smi)';
  const bin = ctx.env.DS01_NVIDIA_SMI || 'nvidia-smi';
  const res = await execa(bin, ['-L'], { reject: false, all: true, env: ctx.env, extendEnv: false, timeout: 15_000 });
  if (res.failed || res.exitCode !== 0) {
    const why =
      (res as { code?: string }).code === 'ENOENT'
        ? 'is not installed'
        : `failed (exit ${res.exitCode}): ${(res.all ?? '').trim().split('\n')[0]}`;
    return {
      id: 'gpus',
      title,
      state: 'fail',
      message: `${bin} ${why}`,
      fix: 'install the NVIDIA driver and check `nvidia-smi -L` as root; DS01_NVIDIA_SMI names another binary',
    };
  }
  const { gpus, migGpus, slices } = countGpus(res.stdout);
  if (gpus === 0) return { id: 'gpus', title, state: 'warn', message: `${bin} answers but lists no GPU` };
  const mig = migGpus > 0 ? `, ${migGpus} in MIG mode with ${slices} MIG slice${slices === 1 ? '' : 's'}` : ', none in MIG mode';
  return { id: 'gpus', title, state: 'ok', message: `${gpus} GPU${gpus === 1 ? '' : 's'}${mig}` };
}
