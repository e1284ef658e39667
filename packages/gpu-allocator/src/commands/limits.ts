import type { CommandContext } from '../context.js';
import { usageOf } from '../occupancy.js';
import { holdHours, readGpuLimits } from '../read-limits.js';
import { type CommandResult, kv, round } from '../result.js';
import { openState } from '../state/open-state.js';

/** The user's resolved GPU limits and the layer each came from (builtin, defaults, group:<g>, override). */
export async function limits(ctx: CommandContext, user: string, type = 'atomic'): Promise<CommandResult> {
  const l = readGpuLimits(ctx.config, user);
  const hold = holdHours(ctx.config, user, type);
  const { data } = await openState().read();
  const usage = round(usageOf(data, user));
  const json = {
    user,
    group: l.group,
    group_source: l.groupSource,
    usage,
    limits: {
      max_gpu_equivalents: l.maxGpuEquivalents,
      max_gpu_slots_per_container: l.maxSlotsPerContainer,
      allow_full_gpu: l.allowFullGpu,
      aggregate_gpu_limit: l.aggregateGpuLimit,
      gpu_hold_after_stop_h: hold,
    },
  };
  const lines = [
    kv('USER', user),
    kv('GROUP', l.group),
    kv('USAGE', usage),
    kv('MAX_GPU_EQUIVALENTS', l.maxGpuEquivalents.value ?? 'unlimited'),
    kv('MAX_GPU_SLOTS_PER_CONTAINER', l.maxSlotsPerContainer.value ?? 'unlimited'),
    kv('ALLOW_FULL_GPU', l.allowFullGpu.value),
    kv('AGGREGATE_GPU_LIMIT', l.aggregateGpuLimit.value ?? 'unlimited'),
    kv('GPU_HOLD_AFTER_STOP_H', hold.value ?? 'indefinite'),
  ];
  return { code: 0, json, lines };
}
