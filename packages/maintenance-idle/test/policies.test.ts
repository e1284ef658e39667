import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { fakeGpuBin, inspect, makeSite, readEvents, readInbox, row, runUntil, type Site, type Step, startContainer } from './helpers.js';

const GPU = ['GPU-88bfa489-a208-1706-fee2-2bcef87fa90d', 'GPU-2955cb34-0454-fd36-bafd-e4714c589273'] as const;

// 10 s idle timeout, 2 s lead; keep-alive files count for at most 20 s; carol
// has a 30 s start-up grace.
const CONFIG = `
defaults:
  idle_timeout_h: 10s
policies:
  grace_period_m: 0
  warning_lead_m: 2s
  keepalive_max_duration_h: 20s
  sigterm_grace_s: 1
user_overrides:
  carol:
    policies:
      grace_period_m: 30s
`;

// The first entry is broken: it is reported and skipped, the others still apply.
const EXEMPTIONS = `
exemptions:
  - username: erin
    exempt_from: idle_timeout_h
    expires_on: "next tuesday"
  - username: bob
    exempt_from: [idle_timeout_h]
    reason: long CPU-side preprocessing
    expires_on: "2099-01-01"
  - username: dana
    exempt_from: [idle_timeout_h]
    reason: thesis deadline
    expires_on: 2020-01-01
`;

// High demand: 6 of 8 GPU units allocated, over the 0.5 threshold, halves a 30 s timeout.
const HIGH_DEMAND_CONFIG = `
defaults:
  idle_timeout_h: 30s
policies:
  grace_period_m: 0
  warning_lead_m: 2s
  high_demand_threshold: 0.5
  high_demand_idle_reduction: 0.5
  sigterm_grace_s: 1
`;

const stopStep = (steps: Step[], key: string) => steps.findIndex((s) => !s.running[key]);

describeDocker('ds01-idle: keep-alive, start-up grace, exemptions, high demand', () => {
  let site: Site;
  let hdSite: Site;
  const c = {} as Record<'ctl' | 'ka' | 'grace' | 'exempt', { id: string; name: string }>;
  const hd = {} as Record<'hd', { id: string; name: string }>;
  let steps: Step[] = [];
  let hdSteps: Step[] = [];
  let touchedAt = 0;

  beforeAll(async () => {
    site = makeSite(CONFIG);
    fs.writeFileSync(path.join(site.dir, 'lifecycle-exemptions.yaml'), EXEMPTIONS);
    hdSite = makeSite(HIGH_DEMAND_CONFIG);
    hdSite.env.DS01_GPU_BIN = fakeGpuBin(hdSite.dir, 6, 8);

    c.ctl = await startContainer({ user: 'dana', gpus: [GPU[0]] });
    c.ka = await startContainer({ user: 'alice', gpus: [GPU[1]] });
    c.grace = await startContainer({ user: 'carol', labels: { 'ds01.gpu.uuids': GPU[0] } });
    c.exempt = await startContainer({ user: 'bob', labels: { 'ds01.gpu.uuids': GPU[1] } });
    hd.hd = await startContainer({ user: 'alice', gpus: [GPU[0]] });

    [steps, hdSteps] = await Promise.all([
      runUntil(
        site,
        c,
        (s) => !(s.at(-1)?.running.ka || s.at(-1)?.running.grace),
        180_000,
        1000,
        async (s) => {
          // After the baseline, alice touches /workspace/.keep-alive in her container.
          if (s.length === 1) {
            const file = `/proc/${(await inspect(c.ka.id)).State.Pid}/root/workspace/.keep-alive`;
            fs.writeFileSync(file, '');
            touchedAt = fs.statSync(file).mtimeMs;
          }
        },
      ),
      runUntil(hdSite, hd, (s) => !s.at(-1)?.running.hd, 180_000),
    ]);
  }, 240_000);

  it('runs cleanly and stops the containers it should', () => {
    for (const s of [...steps, ...hdSteps]) expect(s.run.exitCode, s.run.stderr).toBe(0);
    expect(steps.at(-1)?.running).toEqual({ ctl: false, ka: false, grace: false, exempt: true });
    expect(hdSteps.at(-1)?.running.hd).toBe(false);
  });

  it('stops the container of a user whose exemption has expired like any other', () => {
    const i = stopStep(steps, 'ctl');
    expect(row(steps[i]?.run as Step['run'], c.ctl.name)).toMatchObject({ outcome: 'stopped', exempt: null });
    expect(row(steps[i]?.run as Step['run'], c.ctl.name).idle_s).toBeGreaterThanOrEqual(10);
  });

  it('postpones the stop while a keep-alive file is fresh, for at most keepalive_max_duration_h, and says so', () => {
    const events = readEvents(site, 'maintenance.idle_keepalive');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ user: 'alice', details: { container: c.ka.name } });
    const until = Date.parse(events[0]?.details.until);
    // kept until 20 s after the touch
    expect(Math.abs(until - (touchedAt + 20_000))).toBeLessThan(1000);
    const i = stopStep(steps, 'ka');
    expect(i).toBeGreaterThan(stopStep(steps, 'ctl'));
    const stop = row(steps[i]?.run as Step['run'], c.ka.name);
    expect(stop.outcome).toBe('stopped');
    expect(Date.parse(stop.sample.at)).toBeGreaterThanOrEqual(until);
    const notice = readInbox(site, 'alice').find((n) => n.container === c.ka.name && n.severity === 'info');
    expect(notice?.title).toContain('Keep-alive');
  });

  it('never stops a container within its start-up grace', async () => {
    const started = Date.parse((await inspect(c.grace.id)).State.StartedAt);
    const i = stopStep(steps, 'grace');
    expect(Date.parse(row(steps[i]?.run as Step['run'], c.grace.name).sample.at)).toBeGreaterThanOrEqual(started + 30_000);
    // It was warned while idle past its timeout, with a stop planned for the end of the grace.
    const warned = steps
      .slice(0, i)
      .map((s) => row(s.run, c.grace.name))
      .filter((r) => r.outcome === 'warned_final');
    expect(warned).toHaveLength(1);
    expect(warned[0].idle_s).toBeGreaterThanOrEqual(10);
    expect(Date.parse(warned[0].stop_at)).toBeGreaterThanOrEqual(started + 30_000);
  });

  it('tells an exempt owner once, never stops, and reports the broken exemption entry', () => {
    const notices = readInbox(site, 'bob');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ severity: 'info', container: c.exempt.name });
    expect(notices[0].body).toContain('long CPU-side preprocessing');
    const ev = readEvents(site, 'maintenance.idle_exempt');
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ user: 'bob', details: { container: c.exempt.name, expires: '2099-01-01T00:00:00.000Z' } });
    expect(readEvents(site, 'maintenance.idle_kill').map((e) => e.details.container)).not.toContain(c.exempt.name);
    expect(steps[0]?.run.report.problems.join('\n')).toMatch(/exemptions\[0\] \(erin\): expires_on "next tuesday" is not a date/);
  });

  it('shortens idle timeouts while most GPUs are allocated, and logs the change once', () => {
    const first = hdSteps[0]?.run.report;
    expect(first.demand).toMatchObject({ source: 'ds01-gpu', allocated: 6, total: 8, high: true, threshold: 0.5 });
    const last = row(hdSteps.at(-1)?.run as Step['run'], hd.hd.name);
    expect(last).toMatchObject({ outcome: 'stopped', timeout_s: 15 });
    // warnings at 80 % and 95 % of the shortened timeout
    expect(Math.abs(Date.parse(last.final_warning_at) - Date.parse(last.first_warning_at) - 2250)).toBeLessThanOrEqual(1);
    expect(readEvents(hdSite, 'maintenance.idle_warning').map((e) => e.details.timeout_s)).toContain(15);
    const ev = readEvents(hdSite, 'system.high_demand');
    expect(ev).toHaveLength(1);
    expect(ev[0]?.details).toMatchObject({ active: true, fraction: 0.75, threshold: 0.5, source: 'ds01-gpu' });
    const notice = readInbox(hdSite, 'alice').find((n) => n.severity === 'final');
    expect(notice?.body).toContain('most GPUs are allocated');
  });
});
