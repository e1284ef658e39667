import type { WrapperContext } from '../context.js';
import { Denial } from '../deny.js';
import { type AllocateResult, allocateGpus, type GpuRef, GpuToolError, refusalOf } from './gpu-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Allocation {
  reservation: string;
  gpus: GpuRef[];
}

export interface AllocateWaitingOptions {
  /** The first answer, when an allocator was started early (GpuSession.allocate); later tries call ds01-gpu afresh. */
  first?: () => Promise<AllocateResult>;
  /** Where a waiting user is told what happens (the wrapper's stderr; the proxy has no one to tell). */
  progress?: (line: string) => void;
}

async function waitSettings(ctx: WrapperContext): Promise<{ maxS: number; intervalS: number }> {
  const g = ((await ctx.fullConfig()).raw.gpu_allocation ?? {}) as Record<string, unknown>;
  const maxS = typeof g.wait_max_s === 'number' ? g.wait_max_s : 180;
  const intervalS = typeof g.wait_interval_s === 'number' && g.wait_interval_s > 0 ? g.wait_interval_s : 10;
  return { maxS, intervalS };
}

/**
 * `ds01-gpu allocate` for a create, by the wrapper or the proxy alike:
 * NO_GPU_AVAILABLE is retried every `gpu_allocation.wait_interval_s` for
 * `wait_max_s` (counted from the first "none free" answer, so a slow
 * allocator call does not eat it); any other refusal, or an allocator that
 * cannot answer, is a Denial at once.
 */
export async function allocateWaiting(
  ctx: WrapperContext,
  request: { owner: string; name: string; count: number },
  options: AllocateWaitingOptions = {},
): Promise<Allocation> {
  const { maxS, intervalS } = await waitSettings(ctx);
  let deadline: number | undefined;
  let started = 0;
  for (let attempt = 1; ; attempt++) {
    let r: AllocateResult;
    try {
      r = attempt === 1 && options.first ? await options.first() : await allocateGpus(ctx.env, request.owner, request.name, request.count);
    } catch (err) {
      if (err instanceof GpuToolError) throw new Denial('gpu-allocator', err.message, 'Try again; if it persists, tell an administrator.');
      throw err;
    }
    if (r.status === 'allocated') {
      if (attempt > 1) options.progress?.('ds01: GPU allocated.\n');
      return { reservation: r.reservation, gpus: r.gpus };
    }
    const refusal = refusalOf(r);
    if (refusal) throw refusal;
    const message = (r.status === 'rejected' && r.message) || 'NO_GPU_AVAILABLE';
    if (deadline === undefined) {
      started = Date.now();
      deadline = started + maxS * 1000;
    }
    const waited = (Date.now() - started) / 1000;
    if (Date.now() >= deadline) {
      throw new Denial(
        'gpu:NO_GPU_AVAILABLE',
        maxS > 0 ? `no GPU became free within ${Math.round(maxS)}s (${message})` : message,
        'Try again later; `ds01-gpu status` shows who holds the GPUs.',
      );
    }
    options.progress?.(`ds01: no GPU free yet; waiting (${Math.round(waited)}s of ${Math.round(maxS)}s, attempt ${attempt})...\n`);
    await sleep(Math.min(intervalS * 1000, Math.max(0, deadline - Date.now())));
  }
}
