import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, uniqueName } from '../../../test-support/docker.js';
import {
  allocatorCalls,
  createContainer,
  entriesFor,
  events,
  exitedContainer,
  runCleanup,
  runJson,
  site,
  sleep,
  start,
  stateOf,
  waitExit,
} from './helpers.js';

// Holds of 0.0005 h (1.8 s) and a created timeout of 0.02 min (1.2 s): the
// containers are made once, the tests wait a little over 2 s, then run.
// bob's group never removes; carol's keeps stopped containers for 2 h.
const CONFIG = `
defaults:
  container_hold_after_stop_h: 0.0005
  gpu_hold_after_stop_h: 100
default_group: student
groups:
  student:
    members: [alice]
  keepers:
    members: [bob]
    container_hold_after_stop_h: null
  patient:
    members: [carol]
    container_hold_after_stop_h: 2
policies:
  created_container_timeout_m: 0.02
`;
const DROP_VOLUMES = `${CONFIG}  cleanup_remove_anonymous_volumes: true\n`;

const PAST_HOLD_MS = 2300;
const SLOW = 120_000;

type Made = { id: string; name: string };
const filterFor = (prefix: string) => ['--name-filter', `${prefix}-`];
const volumeOf = async (id: string) => {
  const res = await dockerApi<{ Mounts: { Name: string; Destination: string }[] }>('GET', `/containers/${id}/json`);
  return res.json?.Mounts.find((m) => m.Destination === '/data')?.Name as string;
};

describeDocker('ds01-cleanup containers', () => {
  const main = uniqueName('main');
  const dry = uniqueName('dry');
  const race = uniqueName('race');
  const c: Record<string, Made> = {};

  beforeAll(async () => {
    const made = await Promise.all([
      exitedContainer({ name: `${main}-expired`, user: 'alice', volume: '/data' }),
      createContainer({ name: `${main}-created`, user: 'alice' }),
      createContainer({ name: `${main}-created-gpu`, user: 'alice', gpus: ['GPU-88bfa489-a208-1706-fee2-2bcef87fa90d'] }),
      createContainer({ name: `${main}-running`, user: 'alice', cmd: ['sleep', '300'] }).then(async (r) => {
        await start(r.id);
        return r;
      }),
      exitedContainer({ name: `${main}-unmanaged`, user: 'alice', managed: false, volume: '/data' }),
      exitedContainer({ name: `${main}-protected`, user: 'alice', managed: false, labels: { 'ds01.protected': 'true' } }),
      exitedContainer({ name: `${main}-monitoring`, user: 'alice', labels: { 'ds01.monitoring': 'true' } }),
      exitedContainer({ name: `${main}-excluded`, user: 'alice', labels: { team: 'keep' } }),
      exitedContainer({ name: `${main}-bob`, user: 'bob' }),
      exitedContainer({ name: `${main}-carol`, user: 'carol' }),
      exitedContainer({ name: `${main}-noowner` }),
      exitedContainer({ name: `${dry}-expired`, user: 'alice' }),
      createContainer({ name: `${dry}-created`, user: 'alice' }),
      // Stopped long-running container: restarted, it stays running.
      createContainer({ name: `${race}-restarted`, user: 'alice', cmd: ['sleep', '300'] }).then(async (r) => {
        await start(r.id);
        await dockerApi('POST', `/containers/${r.id}/stop?t=0`);
        return r;
      }),
      // Short-lived: restarted, it exits again at once, so its stop time is new.
      exitedContainer({ name: `${race}-bounced`, user: 'alice' }),
      exitedContainer({ name: `${race}-control`, user: 'alice' }),
    ]);
    for (const m of made) c[m.name] = m;
    await sleep(PAST_HOLD_MS);
  }, SLOW);

  const get = (name: string) => c[name] as Made;

  it(
    'removes created-never-started and expired exited containers, and leaves running, unmanaged, protected, monitoring, excluded and no-limit ones',
    async () => {
      const s = site(CONFIG);
      const m = (n: string) => get(`${main}-${n}`);
      const expiredVolume = await volumeOf(m('expired').id);
      expect(expiredVolume).toBeTruthy();
      const { report, exitCode, stderr } = await runJson(s, ['containers', ...filterFor(main), '--exclude-label', 'team=keep']);
      expect(stderr).toBe('');
      expect(exitCode).toBe(0);

      for (const gone of ['expired', 'created', 'created-gpu', 'noowner']) expect(await stateOf(m(gone).id)).toBeNull();
      expect(await stateOf(m('running').id)).toBe('running');
      for (const kept of ['unmanaged', 'protected', 'monitoring', 'excluded', 'bob', 'carol'])
        expect(await stateOf(m(kept).id)).toBe('exited');
      // Anonymous volumes are kept by default.
      expect((await dockerApi('GET', `/volumes/${expiredVolume}`)).status).toBe(200);
      await dockerApi('DELETE', `/volumes/${expiredVolume}`);

      const removals = events(s, 'container.remove');
      const byName = Object.fromEntries(removals.map((e) => [e.details.container, e]));
      expect(Object.keys(byName).sort()).toEqual(['created', 'created-gpu', 'expired', 'noowner'].map((n) => m(n).name).sort());
      // Each removal is marked as this job's, so the Docker watcher does not log it a second time.
      for (const gone of ['expired', 'created', 'created-gpu', 'noowner'])
        expect(fs.readFileSync(path.join(s.state, 'removal-marks', m(gone).id), 'utf8')).toBe('ds01-cleanup');
      // The owners' notices come from the bin, like the other jobs' (ds01-idle, ds01-runtime).
      const notices = events(s, 'notice.sent');
      expect(notices.length).toBeGreaterThan(0);
      expect(new Set(notices.map((e) => e.source))).toEqual(new Set(['ds01-cleanup']));
      expect(byName[m('expired').name]).toMatchObject({
        user: 'alice',
        source: 'ds01-cleanup',
        details: {
          container_id: m('expired').id,
          reason: 'hold_expired',
          container_type: 'atomic',
          hold_key: 'container_hold_after_stop_h',
          hold_s: 1.8,
          removed_by: 'ds01-cleanup',
        },
      });
      expect(byName[m('expired').name]?.details.stopped_for_s).toBeGreaterThanOrEqual(2);
      expect(byName[m('created').name]?.details).toMatchObject({
        reason: 'created_never_started',
        hold_key: 'created_container_timeout_m',
      });
      expect(byName[m('created-gpu').name]?.details).toMatchObject({ reason: 'created_never_started' });
      expect(byName[m('noowner').name]?.user ?? null).toBeNull();

      // The GPU container's allocation is released by id when it is removed.
      expect(allocatorCalls(s)).toEqual([['release', '--container', m('created-gpu').id, '--reason', 'removed', '--json']]);

      // Every container considered is in the report with its decision and reason.
      expect(entriesFor(report, m('running').name)[0]).toMatchObject({ decision: 'keep', reason: 'not_stopped' });
      expect(entriesFor(report, m('monitoring').name)[0]).toMatchObject({ decision: 'keep', reason: 'protected' });
      expect(entriesFor(report, m('bob').name)[0]).toMatchObject({ decision: 'keep', reason: 'no_limit' });
      const carol = entriesFor(report, m('carol').name)[0] as unknown as { reason: string; remove_at: string };
      expect(carol.reason).toBe('hold_pending');
      expect(Date.parse(carol.remove_at) - Date.now()).toBeGreaterThan(1.9 * 3600_000);
      expect(entriesFor(report, m('expired').name)[0]).toMatchObject({ decision: 'remove', outcome: 'removed', reason: 'hold_expired' });
      expect(entriesFor(report, m('unmanaged').name)).toEqual([]);
      expect(entriesFor(report, m('protected').name)).toEqual([]);
      expect(entriesFor(report, m('excluded').name)).toEqual([]);
      expect(report.counts).toMatchObject({ removed: 4, failed: 0 });

      // The owner is told, in the inbox that survives when nobody is logged in.
      const inbox = fs.readFileSync(path.join(s.state, 'inbox', 'alice.jsonl'), 'utf8');
      expect(inbox).toContain(m('expired').name);
      const summary = events(s, 'maintenance.run_summary');
      expect(summary).toHaveLength(1);
      expect(summary[0]?.details).toMatchObject({ job: 'cleanup', dry_run: false, failures: 0, counts: { removed: 4 } });

      // --include-unmanaged takes foreign containers too (here with their
      // anonymous volumes, as configured), but never a protected one.
      const s2 = site(DROP_VOLUMES);
      const unmanagedVolume = await volumeOf(m('unmanaged').id);
      const again = await runJson(s2, ['containers', '--include-unmanaged', ...filterFor(main), '--exclude-label', 'team']);
      expect(again.exitCode).toBe(0);
      expect(await stateOf(m('unmanaged').id)).toBeNull();
      expect((await dockerApi('GET', `/volumes/${unmanagedVolume}`)).status).toBe(404);
      expect(await stateOf(m('protected').id)).toBe('exited');
      expect(entriesFor(again.report, m('protected').name)[0]).toMatchObject({ decision: 'keep', reason: 'protected' });
      expect(await stateOf(m('excluded').id)).toBe('exited');
    },
    SLOW,
  );

  it(
    '--dry-run removes nothing, writes no state and sends no notice; a non-admin may only dry-run',
    async () => {
      const s = site(CONFIG);
      const expired = get(`${dry}-expired`);
      const created = get(`${dry}-created`);
      const asAlice = { env: { ...process.env, ...s.env, DS01_AS_USER: 'alice' } };

      const text = await runCleanup(s, ['containers', '--dry-run', ...filterFor(dry)], asAlice);
      expect(text.exitCode).toBe(0);
      expect(text.stdout).toContain(`would remove ${expired.name} (alice): hold_expired`);
      expect(text.stdout).toContain(`would remove ${created.name} (alice): created_never_started`);
      expect(text.stdout.trim().split('\n').pop()).toMatch(
        /^ds01-cleanup containers \(dry run, nothing changed\): 2 considered, 2 would be removed/,
      );

      const { report } = await runJson(s, ['all', '--dry-run', ...filterFor(dry)]);
      expect(report.dry_run).toBe(true);
      expect(entriesFor(report, expired.name)).toEqual([expect.objectContaining({ outcome: 'would_remove', reason: 'hold_expired' })]);

      const refused = await runCleanup(s, ['containers', ...filterFor(dry)], asAlice);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/root or an admin.*--dry-run/);

      expect(await stateOf(expired.id)).toBe('exited');
      expect(await stateOf(created.id)).toBe('created');
      expect(events(s).filter((e) => e.event_type !== 'maintenance.run_summary')).toEqual([]);
      expect(fs.existsSync(s.state)).toBe(false);
      expect(allocatorCalls(s).every((call) => call.includes('--dry-run') || call[0] === 'status')).toBe(true);
    },
    SLOW,
  );

  it(
    'leaves a container that was restarted between the listing and the removal (test pause hook); a second run meanwhile exits 0',
    async () => {
      const s = site(CONFIG);
      const restarted = get(`${race}-restarted`);
      const bounced = get(`${race}-bounced`);
      const control = get(`${race}-control`);
      const pause = path.join(s.dir, 'pause');
      fs.mkdirSync(pause);
      const run = runCleanup(s, ['containers', '--json', ...filterFor(race)], {
        env: { ...process.env, ...s.env, DS01_CLEANUP_TEST_PAUSE: pause },
      });
      while (!fs.existsSync(path.join(pause, 'listed'))) await sleep(20);
      const listed = JSON.parse(fs.readFileSync(path.join(pause, 'listed'), 'utf8')) as string[];
      expect(listed.sort()).toEqual([restarted.id, bounced.id, control.id].sort());

      // While the first run holds the lock, a second one does nothing and says so.
      const second = await runCleanup(s, ['containers', ...filterFor(race)]);
      expect(second.exitCode).toBe(0);
      expect(second.stdout.trim()).toMatch(/another run is in progress/);

      await start(restarted.id);
      await start(bounced.id);
      await waitExit(bounced.id);
      fs.writeFileSync(path.join(pause, 'resume'), '');
      const r = await run;
      expect(r.exitCode).toBe(0);
      const report = JSON.parse(String(r.stdout));

      expect(await stateOf(restarted.id)).toBe('running');
      expect(await stateOf(bounced.id)).toBe('exited');
      expect(await stateOf(control.id)).toBeNull();
      expect(entriesFor(report, restarted.name)[0]).toMatchObject({ decision: 'remove', outcome: 'changed' });
      expect(entriesFor(report, bounced.name)[0]).toMatchObject({ decision: 'remove', outcome: 'changed' });
      expect(events(s, 'container.remove').map((e) => e.details.container)).toEqual([control.name]);
    },
    SLOW,
  );

  it('reports a config error with file, line and key, and does nothing (exit 3)', async () => {
    const s = site('defaults:\n  container_hold_after_stop_h: -1\n');
    const r = await runCleanup(s, ['containers']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`${s.config}:2: `);
    expect(r.stderr).toContain('container_hold_after_stop_h');
    expect(events(s)).toEqual([]);
  });

  it('names the flag and value of bad input (exit 2)', async () => {
    const s = site(CONFIG);
    const r = await runCleanup(s, ['containers', '--exclude-label', '=x']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--exclude-label');
    expect(r.stderr).toContain('"=x"');
  });
});
