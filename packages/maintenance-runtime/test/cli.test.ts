import fs from 'node:fs';
import path from 'node:path';
import { tryFileLock } from '@ds01/events-core/state';
import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { entryOf, eventsOf, inboxOf, makeSite, runApi, runJob, type Site, sleep, startContainer, stateOf } from './helpers.js';

// Due at once: a 1 s limit with a 2 s lead, so a stop needs one run for the final warning and one after the lead.
const CONFIG = `
defaults:
  max_runtime_h: 1s
default_group: student
groups:
  student:
    members: [alice, bob]
policies:
  warning_lead_m: 2s
  sigterm_grace_s: 30
`;

function snapshot(site: Site): { state: string | null; events: string | null; inbox: boolean } {
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null);
  return {
    state: read(path.join(site.stateDir, 'runtime-state.json')),
    events: read(site.eventsFile),
    inbox: fs.existsSync(path.join(site.stateDir, 'inbox')),
  };
}

/** Waits (outside the job) until the container has run past the limit. */
async function pastLimit(): Promise<void> {
  await sleep(1500);
}

describeDocker('ds01-runtime (the bin)', () => {
  it('--dry-run changes nothing: no stop, state, event or notice, and says what it would do', async () => {
    const site = makeSite(CONFIG);
    const c = await startContainer(site, 'dry', { user: 'alice' });
    await pastLimit();

    const before = snapshot(site);
    const dry = await runJob(site, ['--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(entryOf(dry.report!, c.id)).toMatchObject({ action: 'final_warning', outcome: 'dry_run' });
    expect(dry.report?.dry_run).toBe(true);
    expect(snapshot(site)).toEqual(before);
    expect(before).toEqual({ state: null, events: null, inbox: false });

    // A real run warns; once the lead has passed, a dry run would stop but changes nothing.
    expect(entryOf(await runApi(site), c.id)).toMatchObject({ action: 'final_warning', outcome: 'done' });
    await sleep(2500);
    const warned = snapshot(site);
    const text = await runJob(site, ['--dry-run', '--text', '--verbose']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`would stop: ${c.name} `));
    expect(text.stdout).toMatch(/dry run \(nothing changed\): 1 considered, .*1 stopped/);
    expect(snapshot(site)).toEqual(warned);
    expect((await stateOf(c.id)).Running).toBe(true);
    expect(inboxOf(site, 'alice')).toHaveLength(1);
  }, 60_000);

  it('steps aside (exit 0, one line, nothing done) while another run holds the lock', async () => {
    const site = makeSite(CONFIG);
    const c = await startContainer(site, 'locked', { user: 'alice' });
    await pastLimit();
    const release = await tryFileLock(path.join(site.stateDir, 'runtime.run'));
    expect(release).not.toBeNull();
    try {
      const text = await runJob(site, ['--text']);
      expect(text.exitCode).toBe(0);
      expect(text.stdout.trim().split('\n')).toHaveLength(1);
      expect(text.stdout).toMatch(/another run is in progress/);
      const json = await runJob(site);
      expect(json.exitCode).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'skipped' });
    } finally {
      await release?.();
    }
    expect(eventsOf(site)).toEqual([]);
    expect((await stateOf(c.id)).Running).toBe(true);
  }, 60_000);

  it('two runs at once: one stops the container, the other steps aside', async () => {
    const site = makeSite(CONFIG);
    // The trap keeps the stopping run (and its lock) busy for 6 s; both runs start together.
    const c = await startContainer(site, 'race', { user: 'bob', cmd: 'trap "sleep 6; exit 0" TERM; while true; do sleep 1; done' });
    await pastLimit();
    expect(entryOf(await runApi(site), c.id)?.action).toBe('final_warning');
    await sleep(2500);

    const [a, b] = await Promise.all([runJob(site), runJob(site)]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const outputs = [a, b].map((r) => JSON.parse(r.stdout) as { status?: string; job?: string });
    expect(outputs.filter((o) => o.status === 'skipped')).toHaveLength(1);
    expect(outputs.filter((o) => o.job === 'runtime')).toHaveLength(1);
    expect(eventsOf(site, 'maintenance.runtime_kill')).toHaveLength(1);
    const state = await stateOf(c.id);
    expect(state).toMatchObject({ Running: false, ExitCode: 0 });
  }, 90_000);

  it('refuses a real run to a non-admin user, names bad flags (exit 2) and config errors with file:line (exit 3)', async () => {
    const site = makeSite(CONFIG);
    const alice = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('alice:'))
      ?.split(':');
    const asAlice = await runJob(site, ['--text'], { uid: Number(alice?.[2]), gid: Number(alice?.[3]) });
    expect(asAlice.exitCode).toBe(1);
    expect(asAlice.stderr).toMatch(/needs root or a ds01 admin \(you are alice\).*--dry-run/);
    expect(fs.existsSync(site.stateDir)).toBe(false);

    const bad = await runJob(site, ['--text', '--dryrun']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/dryrun/);

    fs.writeFileSync(site.config, `${CONFIG}\ncontainer_types:\n  docker:\n    max_runtime_h: 48 hours please\n`);
    const broken = await runJob(site);
    expect(broken.exitCode).toBe(3);
    expect(JSON.parse(broken.stdout)).toMatchObject({ status: 'error' });
    expect(broken.stderr).toMatch(/resource-limits\.yaml:\d+: container_types\.docker\.max_runtime_h: /);
    expect(eventsOf(site)).toEqual([]);
  });
});
