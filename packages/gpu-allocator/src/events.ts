import { logEvent } from '@ds01/events-core';
import type { Allocation, GpuRef, ReleaseReason } from './state/types.js';
import type { Change } from './sync-with-docker.js';

export const SOURCE = 'ds01-gpu';

/** Events are queued while the state lock is held and written once the state change is on disk. */
export type PendingEvent = () => void;

export function refs(gpus: GpuRef[]): { uuid: string; slot: string; weight: number }[] {
  return gpus.map((x) => ({ uuid: x.uuid, slot: x.slot, weight: Number(x.weight.toFixed(4)) }));
}

export function releaseEvent(a: Allocation, reason: ReleaseReason, note?: string): PendingEvent {
  return () => {
    const details: Parameters<typeof logEvent<'gpu.release'>>[1]['details'] = { container: a.container, gpus: refs(a.gpus), reason };
    if (details && a.container_id) details.container_id = a.container_id;
    if (details && note) details.note = note;
    logEvent('gpu.release', { user: a.user, source: SOURCE, details });
  };
}

export function eventsForChanges(
  changes: Change[],
  limitOf: (user: string) => number | null,
  usageOf: (user: string) => number,
): PendingEvent[] {
  const out: PendingEvent[] = [];
  for (const c of changes) {
    if (c.kind === 'release') out.push(releaseEvent(c.allocation, c.reason));
    else if (c.kind === 'hold') {
      const a = c.allocation;
      out.push(() =>
        logEvent('gpu.hold', {
          user: a.user,
          source: SOURCE,
          details: { container: a.container, container_id: a.container_id ?? '', gpus: refs(a.gpus), until: c.until },
        }),
      );
    } else if (c.kind === 'adopt') {
      const a = c.allocation;
      const usage = usageOf(a.user);
      const limit = limitOf(a.user);
      out.push(() =>
        logEvent('gpu.allocate', {
          user: a.user,
          source: SOURCE,
          details: {
            container: a.container,
            container_id: a.container_id ?? '',
            reservation: a.id,
            gpus: refs(a.gpus),
            weight: Number(a.gpus.reduce((s, x) => s + x.weight, 0).toFixed(4)),
            usage_after: Number(usage.toFixed(4)),
            limit,
            reused_hold: false,
          },
        }),
      );
    } else if (c.kind === 'unmanaged') {
      const ct = c.container;
      out.push(() =>
        logEvent('gpu.unmanaged', {
          user: ct.owner ?? undefined,
          source: SOURCE,
          details: { container: ct.name, container_id: ct.id, gpus: c.devices },
        }),
      );
    }
  }
  return out;
}
