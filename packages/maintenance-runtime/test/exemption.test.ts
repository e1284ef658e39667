import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { entryOf, eventsOf, inboxOf, makeSite, runApi, runUntil, sleep, startContainer, stateOf } from './helpers.js';

const LIMIT_S = 4;
const LEAD_S = 2;
const CONFIG = `
defaults:
  max_runtime_h: ${LIMIT_S}s
default_group: student
groups:
  student:
    members: [alice, bob, carol]
policies:
  warning_lead_m: ${LEAD_S}s
  sigterm_grace_s: 0
`;

describeDocker('ds01-runtime and exempt users', () => {
  it('tells an exempt owner once per container, never stops while exempt, and enforces after the expiry', async () => {
    // alice's exemption runs long enough for the exempt phase; the admin then shortens it (below).
    const expiry = new Date(Date.now() + 3_600_000);
    const exemptions = (aliceExpiry: Date) => `exemptions:
  - username: alice
    exempt_from: [max_runtime_h]
    reason: thesis deadline
    expires_on: "${aliceExpiry.toISOString().slice(0, 23)}"
  - username: bob
    exempt_from: [max_runtime_h, idle_timeout_h]
    reason: long benchmark
    expires_on: null
  - username: carol
    exempt_from: [idle_timeout_h]
    reason: notebook
`;
    // A zone-less date-time is read as UTC; carol's exemption is from another limit only.
    const site = makeSite(CONFIG, exemptions(expiry));
    const temporary = await startContainer(site, 'alice', { user: 'alice' });
    const permanent = await startContainer(site, 'bob', { user: 'bob' });
    const other = await startContainer(site, 'carol', { user: 'carol' });

    const notified = new Set<string>();
    await runUntil(site, (r) => {
      for (const c of r.containers) if (c.action === 'exempt_notice' && c.outcome === 'done') notified.add(c.id);
      return notified.has(temporary.id) && notified.has(permanent.id);
    });
    // More runs while exempt: no second notice or event, and no stop.
    for (let i = 0; i < 2; i++) {
      const r = await runApi(site);
      expect(entryOf(r, temporary.id)?.action).toBe('exempt');
      expect(entryOf(r, permanent.id)?.action).toBe('exempt');
    }
    expect((await stateOf(temporary.id)).Running).toBe(true);

    // Past the expiry alice is treated like anyone: a final warning, then the stop after the lead time.
    const shortened = new Date(Date.now() + 1000);
    fs.writeFileSync(path.join(site.dir, 'lifecycle-exemptions.yaml'), exemptions(shortened));
    while (Date.now() <= shortened.getTime()) await sleep(250);
    await runUntil(site, (r) => entryOf(r, temporary.id)?.action === 'stop' && entryOf(r, temporary.id)?.outcome === 'done');
    const forAlice = eventsOf(site).filter(
      (e) => e.details.container_id === temporary.id && e.event_type.startsWith('maintenance.runtime_'),
    );
    expect(forAlice.map((e) => [e.event_type, e.details.level])).toEqual([
      ['maintenance.runtime_exempt', undefined],
      ['maintenance.runtime_warning', 'final'],
      ['maintenance.runtime_kill', undefined],
    ]);
    expect(forAlice[0]?.details.reason).toMatch(/thesis deadline/);
    expect(forAlice[0]?.details.expires).toBe(expiry.toISOString());
    expect(Date.parse(forAlice[2]?.timestamp as string) - Date.parse(forAlice[1]?.timestamp as string)).toBeGreaterThanOrEqual(
      LEAD_S * 1000,
    );
    expect(inboxOf(site, 'alice').map((n) => n.severity)).toEqual(['info', 'final', 'stopped']);

    // bob's permanent exemption: still running, one event and one notice in all those runs.
    expect((await stateOf(permanent.id)).Running).toBe(true);
    expect(eventsOf(site, 'maintenance.runtime_exempt').filter((e) => e.details.container_id === permanent.id)).toHaveLength(1);
    expect(inboxOf(site, 'bob').map((n) => n.severity)).toEqual(['info']);
    // carol is exempt from idle stops only: her container was stopped at its runtime limit.
    expect((await stateOf(other.id)).Running).toBe(false);
    expect(eventsOf(site, 'maintenance.runtime_kill').filter((e) => e.details.container_id === other.id)).toHaveLength(1);
  }, 90_000);
});
