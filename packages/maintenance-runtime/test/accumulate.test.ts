import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import type { RuntimeState } from '../src/index.js';
import { dockerPost, entryOf, eventsOf, makeSite, runApi, runUntil, startContainer, stateOf } from './helpers.js';

// 12 s limit: first warning at 9 s, final at 10.8 s, lead 2 s. bob counts DS01's way (since the last start).
const LIMIT_S = 12;
const CONFIG = `
defaults:
  max_runtime_h: ${LIMIT_S}s
default_group: student
groups:
  student:
    members: [alice, bob, carol]
user_overrides:
  bob:
    runtime_mode: since_start
  carol:
    max_runtime_h: 4s
policies:
  warning_lead_m: 2s
  sigterm_grace_s: 0
`;

const lapMs = (s: { StartedAt: string; FinishedAt: string }) => Date.parse(s.FinishedAt) - Date.parse(s.StartedAt);

describeDocker('ds01-runtime counts runtime across restarts', () => {
  it('keeps counting after a stop and start (warnings re-armed), while since_start begins again', async () => {
    const site = makeSite(CONFIG);
    const kept = await startContainer(site, 'acc', { user: 'alice' });
    const reset = await startContainer(site, 'since', { user: 'bob' });

    // First lap: until both have been warned, then both are stopped and started again.
    const warned = new Set<string>();
    await runUntil(site, (r) => {
      for (const c of r.containers) if (c.action.endsWith('_warning') && c.outcome === 'done') warned.add(c.id);
      return warned.has(kept.id) && warned.has(reset.id);
    });
    await Promise.all([dockerPost(`/containers/${kept.id}/stop?t=0`), dockerPost(`/containers/${reset.id}/stop?t=0`)]);
    const firstLap = lapMs(await stateOf(kept.id));
    expect(firstLap).toBeGreaterThanOrEqual(0.75 * LIMIT_S * 1000);

    const whileStopped = await runApi(site);
    expect(entryOf(whileStopped, kept.id)).toMatchObject({ action: 'not_running', runtime_s: Math.round(firstLap / 1000) });
    expect(entryOf(whileStopped, reset.id)).toMatchObject({ action: 'not_running', runtime_s: 0 });

    const restartedAt = Date.now();
    await Promise.all([dockerPost(`/containers/${kept.id}/start`), dockerPost(`/containers/${reset.id}/start`)]);
    const afterRestart = await runApi(site);
    const acc = entryOf(afterRestart, kept.id);
    // Accumulated: the first lap still counts, and a new warning goes out for the new lap.
    expect(acc?.runtime_s).toBeGreaterThanOrEqual(Math.floor(firstLap / 1000));
    expect(['first_warning', 'final_warning']).toContain(acc?.action);
    expect(acc?.outcome).toBe('done');
    // since_start: the clock began again.
    expect(entryOf(afterRestart, reset.id)).toMatchObject({ action: 'ok', mode: 'since_start' });
    expect(entryOf(afterRestart, reset.id)?.runtime_s).toBeLessThan(firstLap / 1000);

    const state = JSON.parse(fs.readFileSync(path.join(site.stateDir, 'runtime-state.json'), 'utf8')) as RuntimeState;
    expect(state.containers[kept.id]?.ledger).toMatchObject({ laps: 2, closedMs: firstLap });

    const stopped = new Set<string>();
    await runUntil(
      site,
      (r) => {
        for (const c of r.containers) if (c.action === 'stop' && c.outcome === 'done') stopped.add(c.id);
        return stopped.has(kept.id) && stopped.has(reset.id);
      },
      90_000,
    );
    // The accumulated container was stopped before its second lap alone reached the limit;
    // the since_start one only once its second lap had.
    expect(lapMs(await stateOf(kept.id))).toBeLessThan(LIMIT_S * 1000);
    expect(lapMs(await stateOf(reset.id))).toBeGreaterThanOrEqual(LIMIT_S * 1000);

    const keptEvents = eventsOf(site).filter((e) => e.details.container_id === kept.id && e.event_type.startsWith('maintenance.runtime_'));
    const lap2 = keptEvents.filter((e) => Date.parse(e.timestamp) >= restartedAt);
    expect(lap2.some((e) => e.event_type === 'maintenance.runtime_warning')).toBe(true);
    const kill = keptEvents.at(-1);
    expect(kill?.event_type).toBe('maintenance.runtime_kill');
    expect(kill?.details.runtime_s as number).toBeGreaterThanOrEqual(LIMIT_S);
  }, 150_000);

  it('a restart no run saw keeps the final warning: restarting does not push the stop back', async () => {
    const site = makeSite(CONFIG);
    const c = await startContainer(site, 'loop', { user: 'carol' });
    await runUntil(site, (r) => entryOf(r, c.id)?.action === 'final_warning' && entryOf(r, c.id)?.outcome === 'done');
    // Like a crash loop under a restart policy: down and up again between two runs.
    await dockerPost(`/containers/${c.id}/restart?t=0`);
    const after = await runApi(site);
    // No new warning: waiting out the lead of the one already sent, or stopping now that it has passed.
    expect(['wait', 'stop']).toContain(entryOf(after, c.id)?.action);
    if (entryOf(after, c.id)?.action === 'wait') {
      await runUntil(site, (r) => entryOf(r, c.id)?.action === 'stop' && entryOf(r, c.id)?.outcome === 'done');
    }
    const levels = eventsOf(site, 'maintenance.runtime_warning')
      .filter((e) => e.details.container_id === c.id)
      .map((e) => e.details.level);
    expect(levels.filter((l) => l === 'final')).toHaveLength(1);
    expect(eventsOf(site, 'maintenance.runtime_kill').filter((e) => e.details.container_id === c.id)).toHaveLength(1);
  }, 60_000);
});
