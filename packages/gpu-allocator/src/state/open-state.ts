import { statePath } from '@ds01/events-core';
import { StateFile } from '@ds01/events-core/state';
import { emptyState, type GpuState, validateState } from './types.js';

export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_GPU_STATE_FILE || statePath('gpu-state.json', env);
}

/** The allocator's state file (0644: readable by everyone, written only by root through ds01-gpu). */
export function openState(lockTimeoutMs?: number): StateFile<GpuState> {
  const options: ConstructorParameters<typeof StateFile<GpuState>>[2] = { validate: validateState, mode: 0o644 };
  if (lockTimeoutMs !== undefined) options.timeoutMs = lockTimeoutMs;
  return new StateFile<GpuState>(stateFilePath(), emptyState, options);
}
