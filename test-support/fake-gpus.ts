// Environment for running code that calls nvidia-smi against the stand-in in
// test-support/bin (scenarios: test-support/fixtures/nvidia-smi/README.md).
//
//   execFileSync('nvidia-smi', ['-L'], { env: fakeGpuEnv('mig-mixed') });

import { fileURLToPath } from 'node:url';

/** Directory holding the `nvidia-smi` stand-in; put it first on PATH. */
export const fakeNvidiaSmiDir: string = fileURLToPath(new URL('./bin', import.meta.url));

/** Absolute path of the stand-in itself. */
export const fakeNvidiaSmi: string = `${fakeNvidiaSmiDir}/nvidia-smi`;

/**
 * process.env with the stand-in first on PATH and DS01_FAKE_GPUS=scenario
 * (a scenario name or an absolute directory), plus `extra`, e.g.
 * { DS01_FAKE_GPU_UTIL: 'GPU-…=90', DS01_FAKE_COMPUTE_APPS: '/tmp/apps.csv' }.
 */
export function fakeGpuEnv(scenario: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, PATH: `${fakeNvidiaSmiDir}:${process.env.PATH ?? ''}`, DS01_FAKE_GPUS: scenario, ...extra };
}
