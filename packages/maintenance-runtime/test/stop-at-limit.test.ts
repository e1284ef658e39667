import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { dockerPost, entryOf, eventsOf, inboxOf, makeSite, runApi, runUntil, startContainer, stateOf } from './helpers.js';

// 30 s limit: first warning at 22.5 s, final at 27 s (a window wide enough for a busy machine),
// final warning at least 3 s before the stop.
const LIMIT_S = 30;
const LEAD_S = 3;
const CONFIG = `
defaults:
  max_runtime_h: ${LIMIT_S}s
default_group: student
groups:
  student:
    members: [alice, bob, carol]
policies:
  warning_lead_m: ${LEAD_S}s
  sigterm_grace_s: 10
container_types:
  unknown:
    max_runtime_h: ${LIMIT_S}s
    sigterm_grace_s: 1
`;
const TRAP = 'trap "sleep 3; exit 0" TERM; while true; do sleep 1; done';

describeDocker('ds01-runtime stops at the limit', () => {
  it('warns at 75 % and 90 %, stops at the limit and not before, with the grace and a notice in the inbox', async () => {
    const site = makeSite(CONFIG);
    // alice's native container gets the policy grace (10 s) and uses 3 of them; bob's `api` container
    // (DS01 never limited that type) falls to container_types.unknown and is killed after 1 s.
    const [native, api] = await Promise.all([
      startContainer(site, 'native', { user: 'alice', type: 'atomic', cmd: TRAP }),
      startContainer(site, 'api', { user: 'bob', type: 'api', cmd: TRAP }),
    ]);
    // Not before: well under the first warning point, nothing is sent.
    const first = await runApi(site);
    expect(first.failures).toBe(0);
    expect(entryOf(first, native.id)).toMatchObject({ action: 'ok', user: 'alice', type: 'atomic', max_runtime_h: LIMIT_S / 3600 });
    expect(entryOf(first, api.id)).toMatchObject({ action: 'ok', max_runtime_source: 'container_type:unknown' });

    const cpuOnly = await startContainer(site, 'cpu', { user: 'carol', gpu: false });
    const kept = await startContainer(site, 'protected', { user: 'alice', labels: { 'ds01.protected': 'true' } });
    // A paused container still holds its GPU: its time counts, and Docker stops it all the same.
    const paused = await startContainer(site, 'paused', { user: 'carol', cmd: TRAP });
    await dockerPost(`/containers/${paused.id}/pause`);
    const second = await runApi(site);
    expect(entryOf(second, cpuOnly.id)).toMatchObject({ action: 'skip', gpu: false });
    expect(entryOf(second, kept.id)).toMatchObject({ action: 'skip', reason: 'ds01.protected=true' });
    expect(entryOf(second, paused.id)).toMatchObject({ status: 'paused' });

    const stopped = new Set<string>();
    await runUntil(site, (r) => {
      for (const c of r.containers) if (c.action === 'stop' && c.outcome === 'done') stopped.add(c.id);
      return stopped.has(native.id) && stopped.has(api.id) && stopped.has(paused.id);
    });

    for (const [c, exitCode] of [
      [native, 0],
      [api, 137],
    ] as const) {
      const state = await stateOf(c.id);
      expect(state.Running).toBe(false);
      // The trap got its 3 s under a 10 s grace; under a 1 s grace it was killed.
      expect(state.ExitCode).toBe(exitCode);
      expect(Date.parse(state.FinishedAt) - Date.parse(state.StartedAt)).toBeGreaterThanOrEqual(LIMIT_S * 1000);

      const mine = eventsOf(site).filter((e) => e.details.container_id === c.id && e.event_type.startsWith('maintenance.runtime_'));
      expect(mine.map((e) => [e.event_type, e.details.level])).toEqual([
        ['maintenance.runtime_warning', 'first'],
        ['maintenance.runtime_warning', 'final'],
        ['maintenance.runtime_kill', undefined],
      ]);
      const [warnFirst, warnFinal, kill] = mine as [(typeof mine)[0], (typeof mine)[0], (typeof mine)[0]];
      expect(warnFirst.details.runtime_s as number).toBeGreaterThanOrEqual(0.75 * LIMIT_S - 1);
      expect(warnFinal.details.runtime_s as number).toBeGreaterThanOrEqual(0.9 * LIMIT_S - 1);
      // The lead-time guarantee, and the stop no earlier than the final warning announced.
      expect(Date.parse(kill.timestamp) - Date.parse(warnFinal.timestamp)).toBeGreaterThanOrEqual(LEAD_S * 1000);
      expect(Date.parse(kill.timestamp)).toBeGreaterThanOrEqual(Date.parse(warnFinal.details.stop_at as string));
      expect(kill.details).toMatchObject({ container: c.name, max_runtime: LIMIT_S / 3600, max_runtime_h: LIMIT_S / 3600 });
      expect(kill.details.runtime_s as number).toBeGreaterThanOrEqual(LIMIT_S);
      expect(kill.user).toBe(c === native ? 'alice' : 'bob');
    }

    // The paused container was stopped too (Docker unpauses it for the signal; its trap ran).
    // Created while the machine was busy, it may have been first seen past 90 %: then only the final warning.
    expect(await stateOf(paused.id)).toMatchObject({ Running: false, ExitCode: 0 });
    const pausedEvents = eventsOf(site).filter(
      (e) => e.details.container_id === paused.id && e.event_type.startsWith('maintenance.runtime_'),
    );
    expect(pausedEvents.slice(-2).map((e) => [e.event_type, e.details.level])).toEqual([
      ['maintenance.runtime_warning', 'final'],
      ['maintenance.runtime_kill', undefined],
    ]);
    expect(pausedEvents.length === 2 || pausedEvents[0]?.details.level === 'first').toBe(true);

    // Nobody is logged in here: the notices reach the inbox, in order, saying when and what to save.
    const notices = inboxOf(site, 'alice').filter((n) => n.container === native.name);
    expect(notices.map((n) => n.severity)).toEqual(['warning', 'final', 'stopped']);
    expect(notices[1]?.body).toMatch(/will be stopped at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(notices[1]?.body).toMatch(/checkpoints/);
    expect(notices[2]?.body).toMatch(/was stopped/);

    expect((await stateOf(cpuOnly.id)).Running).toBe(true);
    expect((await stateOf(kept.id)).Running).toBe(true);
    expect(eventsOf(site).filter((e) => e.details.container_id === cpuOnly.id || e.details.container_id === kept.id)).toEqual([]);
    expect(eventsOf(site, 'maintenance.run_summary').length).toBeGreaterThan(2);
  }, 90_000);
});
