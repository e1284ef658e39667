import { statePath } from '@ds01/events-core';
import { StateFile } from '@ds01/events-core/state';
import { emptyState, type GpuState, validateState } from './types.js';

export function stateFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DS01_GPU_STATE_FILE || statePath('gpu-state.json', env);
}

/** The allocator's state file (0644: readable by everyone, written only by root through ds01-gpu). */
export function openState(lockTimeoutMs?: number): StateFile<GpuState> {
  // A holder is presumed dead only after 20 s without refreshing its lock (events-core's default is 5 s):
  // on a saturated host a live holder's refresh timer can lag by seconds, and a lock taken over from a
  // live holder would let two processes decide at once. A killed holder costs the others one 20 s wait.
  const options: ConstructorParameters<typeof StateFile<GpuState>>[2] = { validate: validateState, mode: 0o644, staleMs: 20_000 };
  if (lockTimeoutMs !== undefined) options.timeoutMs = lockTimeoutMs;
  return new StateFile<GpuState>(stateFilePath(), emptyState, options);
}
