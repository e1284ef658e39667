import type { CommandContext } from '../context.js';
import { releaseEvent } from '../events.js';
import { holdExpired } from '../occupancy.js';
import { type CommandResult, kv, releasedJson } from '../result.js';
import { prepare, transact } from '../transaction.js';

/**
 * `reconcile` applies the Docker sync every command runs and reports what it
 * released; `release-stale` also releases holds that have run out (the
 * cleanup job's call). With `dryRun` it reports and changes nothing.
 */
export async function reconcile(ctx: CommandContext, options: { dryRun: boolean; expireHolds: boolean }): Promise<CommandResult> {
  const prep = await prepare();
  const { result } = await transact(
    ctx,
    prep,
    (state, tx) => {
      const released = tx.sync.changes.flatMap((c) => (c.kind === 'release' ? [releasedJson(c.allocation, c.reason)] : []));
      if (options.expireHolds) {
        for (const a of state.allocations) {
          if (!holdExpired(a, tx.now)) continue;
          released.push(releasedJson(a, 'hold_expired'));
          tx.events.push(releaseEvent(a, 'hold_expired'));
          a.state = 'revoked';
          a.revoked_reason = 'hold_expired';
          a.changed_at = tx.now;
        }
      }
      const held = tx.sync.changes.flatMap((c) =>
        c.kind === 'hold' ? [{ container: c.allocation.container, user: c.allocation.user, until: c.until }] : [],
      );
      return {
        code: 0,
        json: { status: 'ok', released, held, dry_run: options.dryRun, ...(tx.rebuilt ? { rebuilt: tx.rebuilt } : {}) },
        lines: [
          kv('STATUS', 'OK'),
          kv('RELEASED', released.length),
          ...released.map((r) => kv('RELEASED_CONTAINER', `${r.container}:${r.reason}`)),
        ],
      } satisfies CommandResult;
    },
    { dryRun: options.dryRun },
  );
  return result;
}
