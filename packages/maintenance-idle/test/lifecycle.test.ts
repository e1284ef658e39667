import fs from 'node:fs';
import path from 'node:path';
import { tryFileLock } from '@ds01/events-core/state';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi } from '../../../test-support/docker.js';
import {
  inspect,
  isRunning,
  makeSite,
  only,
  type RunResult,
  readEvents,
  readInbox,
  readState,
  row,
  runIdle,
  runUntil,
  type Site,
  startContainer,
  until,
} from './helpers.js';

const GPU = [
  'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'GPU-2955cb34-0454-fd36-bafd-e4714c589273',
  'GPU-c5661bc0-3b22-d06c-46f2-029255c1ae30',
  'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406',
] as const;

const CONFIG = `
defaults:
  idle_timeout_h: 6s
policies:
  grace_period_m: 0
  warning_lead_m: 1s
  sigterm_grace_s: 1
`;

type Ref = { id: string; name: string };

describeDocker('ds01-idle: containers that change between runs, --dry-run, one run at a time', () => {
  let site: Site;
  const c = {} as Record<'restarted' | 'removed' | 'reused' | 'due', Ref>;
  let oldReusedId = '';
  let dry: RunResult;
  let dryNoAllocator: RunResult;
  let stateBefore = '';
  let stateAfterDry = '';
  let inboxBefore = 0;
  let inboxAfterDry = 0;
  let dueRunningAfterDry = false;
  let together: RunResult[] = [];

  beforeAll(async () => {
    site = makeSite(CONFIG);
    c.restarted = await startContainer({ user: 'alice', gpus: [GPU[0]] });
    c.removed = await startContainer({ user: 'alice', gpus: [GPU[1]] });
    c.reused = await startContainer({ user: 'alice', gpus: [GPU[2]] });
    c.due = await startContainer({ user: 'alice', gpus: [GPU[3]] });

    // Until every container has had its final warning.
    const finals = new Set<string>();
    const steps = await runUntil(
      site,
      c,
      (s) => {
        for (const [k, v] of Object.entries(c)) if (row(s.at(-1)?.run as RunResult, v.name)?.outcome === 'warned_final') finals.add(k);
        return finals.size === 4;
      },
      120_000,
      500,
    );
    const last = steps.at(-1)?.run as RunResult;
    const stopAt = Math.max(...Object.values(c).map((v) => Date.parse(row(last, v.name).stop_at)));

    // Between runs: one restarted, one removed, one replaced by a new container with the same name.
    await dockerApi('POST', `/containers/${c.restarted.id}/restart?t=0`);
    await dockerApi('DELETE', `/containers/${c.removed.id}?force=1`);
    oldReusedId = c.reused.id;
    await dockerApi('DELETE', `/containers/${c.reused.id}?force=1`);
    c.reused = await startContainer({ user: 'alice', gpus: [GPU[2]], name: c.reused.name });

    await until(stopAt, 200);
    const filter = only(...Object.values(c).map((v) => v.name));
    stateBefore = fs.readFileSync(path.join(site.stateDir, 'idle-state.json'), 'utf8');
    inboxBefore = readInbox(site, 'alice').length;
    dry = await runIdle(site, ['--dry-run', ...filter]);
    dryNoAllocator = await runIdle({ ...site, env: { ...site.env, DS01_GPU_BIN: path.join(site.dir, 'missing') } }, [
      '--dry-run',
      ...filter,
    ]);
    stateAfterDry = fs.readFileSync(path.join(site.stateDir, 'idle-state.json'), 'utf8');
    inboxAfterDry = readInbox(site, 'alice').length;
    dueRunningAfterDry = await isRunning(c.due.id);

    // Two runs at once: one works, the other steps aside or finds nothing left to do.
    together = await Promise.all([runIdle(site, filter), runIdle(site, filter)]);
  }, 240_000);

  it('--dry-run says what it would do and changes nothing (container, state file, notices, events)', () => {
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.report.dry_run).toBe(true);
    expect(row(dry, c.due.name)).toMatchObject({ outcome: 'would_stop' });
    expect(dueRunningAfterDry).toBe(true);
    expect(stateAfterDry).toBe(stateBefore);
    expect(inboxAfterDry).toBe(inboxBefore);
    const dryKills = readEvents(site, 'maintenance.idle_kill').filter((e) => e.details.container === c.due.name);
    expect(dryKills.length).toBeLessThanOrEqual(1); // only the real run after it may have stopped it
    expect(readEvents(site, 'maintenance.run_summary').filter((e) => e.details.dry_run)).toHaveLength(2);
  });

  it('falls back to nvidia-smi for GPU demand when ds01-gpu cannot be run', () => {
    expect(dryNoAllocator.exitCode, dryNoAllocator.stderr).toBe(0);
    expect(dryNoAllocator.report.demand).toMatchObject({ source: 'nvidia-smi', total: 4 });
    // at least this file's three GPUs (other test files share the daemon)
    expect(dryNoAllocator.report.demand.allocated).toBeGreaterThanOrEqual(3);
    expect(dryNoAllocator.report.demand.note).toContain('missing');
  });

  it('stops a due container exactly once when two runs start together', async () => {
    for (const r of together) expect(r.exitCode, r.stderr).toBe(0);
    expect(await isRunning(c.due.id)).toBe(false);
    expect(readEvents(site, 'maintenance.idle_kill').filter((e) => e.details.container === c.due.name)).toHaveLength(1);
    expect(readInbox(site, 'alice').filter((n) => n.container === c.due.name && n.severity === 'stopped')).toHaveLength(1);
  });

  it('starts afresh for a restarted container: no stop, warnings forgotten', async () => {
    expect(row(dry, c.restarted.name)).toMatchObject({ outcome: 'baseline', reason: expect.stringContaining('restarted') });
    expect(await isRunning(c.restarted.id)).toBe(true);
    const entry = readState(site).containers[c.restarted.id];
    expect(entry.started_at).toBe(Date.parse((await inspect(c.restarted.id)).State.StartedAt));
    expect(entry.warnings).toEqual({ first_at: null, final_at: null, due_at: null });
  });

  it('drops the state of a removed container without an error', () => {
    expect(row(dry, c.removed.name)).toBeUndefined();
    expect(readState(site).containers[c.removed.id]).toBeUndefined();
  });

  it('gives a new container that reuses a name no inherited state', async () => {
    expect(row(dry, c.reused.name)).toMatchObject({ outcome: 'baseline', id: c.reused.id });
    expect(await isRunning(c.reused.id)).toBe(true);
    const state = readState(site);
    expect(state.containers[oldReusedId]).toBeUndefined();
    expect(state.containers[c.reused.id].warnings.final_at).toBeNull();
  });

  it('steps aside with one line and exit 0 while another run holds the lock', async () => {
    const release = await tryFileLock(path.join(site.stateDir, 'idle.run'));
    expect(release).not.toBeNull();
    const before = fs.readFileSync(path.join(site.stateDir, 'idle-state.json'), 'utf8');
    try {
      const r = await runIdle(site, only(c.restarted.name), { json: false });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toContain('another run is in progress');
    } finally {
      await release?.();
    }
    expect(fs.readFileSync(path.join(site.stateDir, 'idle-state.json'), 'utf8')).toBe(before);
  });
});

describeDocker('ds01-idle: CLI', () => {
  it('refuses to run for real as an unprivileged user', async () => {
    const site = makeSite('defaults:\n  idle_timeout_h: 1\n');
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('alice:')) as string;
    const [, , uid, gid] = line.split(':');
    const r = await runIdle(site, [], { uid: Number(uid), gid: Number(gid) });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('must run as root');
  });

  it('rejects bad flags with exit 2, naming the flag', async () => {
    const site = makeSite('defaults:\n  idle_timeout_h: 1\n');
    const bad = await runIdle(site, ['--name-filter', '(']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--name-filter "("');
    const unknown = await runIdle(site, ['--frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('frobnicate');
  });

  it('reports a configuration error with file:line and key, and does nothing', async () => {
    const site = makeSite('defaults:\n  idle_timeout_h: forty minutes\n');
    const r = await runIdle(site);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`${site.configFile}:2: defaults.idle_timeout_h`);
    expect(fs.existsSync(site.stateDir)).toBe(false);
  });

  it('considers CPU-only containers when policies.idle_cpu_only_containers is on', async () => {
    const site = makeSite('defaults:\n  idle_timeout_h: 1\npolicies:\n  idle_cpu_only_containers: true\n');
    const plain = await startContainer({ user: 'bob' });
    const r = await runIdle(site, ['--dry-run', ...only(plain.name)]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(row(r, plain.name)).toMatchObject({ outcome: 'baseline', gpu: false, user: 'bob' });
  });
});

describe('ds01-idle --help', () => {
  it('documents every flag', async () => {
    const r = await runIdle(makeSite(''), ['--help'], { json: false });
    expect(r.exitCode).toBe(0);
    for (const flag of ['--dry-run', '--json', '--name-filter', '--verbose']) expect(r.stdout).toContain(flag);
  });
});
