import { logEvent } from '@ds01/events-core';
import type { CommandContext } from './context.js';
import { type ContainerView, type DockerSnapshot, isLive, type SnapshotNeeds, takeSnapshot } from './docker/snapshot.js';
import { eventsForChanges, type PendingEvent, SOURCE } from './events.js';
import { readInventory } from './inventory/read-inventory.js';
import { InventoryError } from './inventory/run-nvidia-smi.js';
import type { Inventory } from './inventory/types.js';
import { usageOf } from './occupancy.js';
import { allocationSettings, readGpuLimits } from './read-limits.js';
import { openState } from './state/open-state.js';
import type { GpuState } from './state/types.js';
import { type SyncResult, syncWithDocker } from './sync-with-docker.js';

export interface Prepared {
  inventory: Inventory | null;
  /** Why there is no inventory (nvidia-smi failed or is missing). */
  inventoryError: string | null;
  snapshot: DockerSnapshot;
}

/**
 * Everything slow happens here, before the lock and side by side: a few
 * filtered container listings, nvidia-smi (one call, two on a MIG host), and
 * the few inspects the state cannot answer (see README, "Docker calls"). The
 * lock is then held only for reading, deciding and writing the state.
 * `focus` is a container the command is about (id, prefix or name), looked up
 * even when no listing shows it.
 */
export async function prepare(options: { inventory?: boolean; focus?: string } = {}): Promise<Prepared> {
  // The listings are asked for first: the daemon works on them while nvidia-smi starts and the state is
  // read; which containers need an inspect is known once the state is.
  let resolveNeeds: (needs: SnapshotNeeds) => void = () => {};
  const snapshotP = takeSnapshot(new Promise((resolve) => (resolveNeeds = resolve)));
  snapshotP.catch(() => {}); // awaited below; this only keeps an early failure from being reported as unhandled
  const inventoryP: Promise<{ inv: Inventory | null; err: string | null }> =
    options.inventory !== false
      ? readInventory().then(
          (inv) => ({ inv, err: null }),
          (err: unknown) => {
            if (err instanceof InventoryError) return { inv: null, err: err.message };
            return { inv: null, err: err instanceof Error ? err.message : String(err) };
          },
        )
      : Promise.resolve({ inv: null, err: 'not read' });
  const pre = (await openState().read()).data;
  const byId = new Map(pre.allocations.filter((a) => a.container_id).map((a) => [a.container_id as string, a]));
  const pendingNames = new Set(pre.allocations.filter((a) => a.state === 'pending').map((a) => a.container));
  const want = (c: ContainerView): boolean => {
    const a = byId.get(c.id);
    // FinishedAt, for the start of a hold: only for containers that just stopped.
    if (a) return a.state === 'active' && !isLive(c.state);
    if (pendingNames.has(c.name)) return !isLive(c.state);
    if (c.id in pre.inspected || pre.removed[c.id]) return false;
    // Labelled ds01 GPU containers the state does not know: adoption (the rebuild path).
    if (c.gpuLabels.length > 0 || c.managed) return true;
    // Unmanaged GPU use: only running containers can use a GPU; each is inspected once per start, then cached.
    return c.state === 'running' || c.state === 'paused' || c.state === 'restarting';
  };
  // Every container an allocation names must be seen (or seen to be gone), labelled or not.
  const refs = [...byId.keys()];
  if (options.focus) refs.push(options.focus);
  resolveNeeds({ want, refs, names: [...pendingNames] });
  const [snapshot, inv] = await Promise.all([snapshotP, inventoryP]);
  return { inventory: inv.inv, inventoryError: inv.err, snapshot };
}

export interface Tx {
  now: number;
  sync: SyncResult;
  events: PendingEvent[];
  /** Set when the state file was unreadable and has just been rebuilt from Docker. */
  rebuilt?: { movedTo: string; error: string };
}

/**
 * Runs `fn` on the synced state under the cross-process lock (fails closed
 * with LockTimeoutError), writes the state, then logs the queued events.
 * With `dryRun` nothing is locked, written or logged.
 */
export async function transact<R>(
  ctx: CommandContext,
  prep: Prepared,
  fn: (state: GpuState, tx: Tx) => R,
  options: { dryRun?: boolean } = {},
): Promise<{ result: R; tx: Tx }> {
  const store = openState(allocationSettings(ctx.config).lockTimeoutMs);
  const body = (state: GpuState, recovered?: { movedTo: string; error: string }): { result: R; tx: Tx } => {
    const now = Date.now();
    const sync = syncWithDocker(state, prep.snapshot, prep.inventory, ctx.config, now);
    const tx: Tx = { now, sync, events: [] };
    if (recovered) {
      tx.rebuilt = recovered;
      const count = state.allocations.length;
      tx.events.push(() =>
        logEvent('gpu.state_rebuilt', {
          source: SOURCE,
          details: { moved_to: recovered.movedTo, error: recovered.error, allocations: count },
        }),
      );
    } else {
      tx.events.push(
        ...eventsForChanges(
          sync.changes,
          (u) => readGpuLimits(ctx.config, u).maxGpuEquivalents.value,
          (u) => usageOf(state, u),
        ),
      );
    }
    const result = fn(state, tx);
    state.updated_at = new Date(now).toISOString();
    return { result, tx };
  };
  if (options.dryRun) {
    const { data, context } = await store.read();
    return body(structuredClone(data), context.recovered);
  }
  const out = await store.update((state, context) => body(state, context.recovered));
  for (const e of out.tx.events) e();
  return out;
}
