import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi } from '../../../test-support/docker.js';
import type { DemoReport, LoggedEvent } from '../src/index.js';
import { checkAgreement, readEventsFrom } from '../src/index.js';

const demoBin = fileURLToPath(new URL('../dist/bin/ds01-demo.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

type Pred = { what: string; match: (e: LoggedEvent) => boolean };
const ev = (type: string, user: string | undefined, extra: (e: LoggedEvent) => boolean = () => true, what = ''): Pred => ({
  what: `${type}${user ? ` ${user}` : ''}${what ? ` ${what}` : ''}`,
  match: (e) => e.event_type === type && (user === undefined || e.user === user) && extra(e),
});
const container = (suffix: string) => (e: LoggedEvent) => String(e.details?.container ?? '').endsWith(suffix);

/** Index of each predicate, matched in order (a subsequence); -1 from the first that is missing. */
function subsequence(events: LoggedEvent[], preds: Pred[]): { found: number[]; missing: string | null } {
  const found: number[] = [];
  let from = 0;
  for (const p of preds) {
    const i = events.findIndex((e, k) => k >= from && p.match(e));
    if (i < 0) return { found, missing: p.what };
    found.push(i);
    from = i + 1;
  }
  return { found, missing: null };
}

const firstIndex = (events: LoggedEvent[], p: Pred) => events.findIndex((e) => p.match(e));

describeDocker('npm run demo (end to end)', () => {
  let dir: string;
  let report: DemoReport;
  let events: LoggedEvent[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-demo-test-'));
    const res = await execa(process.execPath, [demoBin, '--json', '--dir', dir], { reject: false, env: process.env, timeout: 540_000 });
    if (!res.stdout.trim().startsWith('{'))
      throw new Error(`the demo printed no JSON report (exit ${res.exitCode}):\n${res.stderr.slice(-3000)}`);
    report = JSON.parse(res.stdout) as DemoReport;
    events = readEventsFrom(path.join(dir, 'log/events.jsonl')).events;
  }, 600_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs every step of the story with the outcome it shows', () => {
    expect(report.message).toBeUndefined();
    expect(report.missingTools).toEqual([]);
    expect(report.scenario?.gaps).toEqual([]);
    expect(report.scenario?.steps.filter((s) => !s.asExpected)).toEqual([]);
    expect(report.scenario?.steps.map((s) => s.step)).toEqual([
      'alice-gpu',
      'bob-gpu',
      'carol-cpu',
      'bob-quota',
      'carol-bypass',
      'carol-other',
      'carol-privileged',
      'idle-stop',
      'runtime-stop',
      'cleanup-release',
    ]);
    expect(report.status).toBe('ok');
  });

  it('logs the events the scenario must produce, in order', () => {
    const story = subsequence(events, [
      ev('gpu.allocate', 'alice', (e) => container('alice-train')(e) && JSON.stringify(e.details?.gpus).includes('MIG-'), 'a MIG slice'),
      ev('container.create', 'alice', container('alice-train')),
      ev('gpu.allocate', 'bob', (e) => container('bob-sweep')(e) && JSON.stringify(e.details?.gpus).includes('"GPU-'), 'a whole GPU'),
      ev('container.create', 'bob', container('bob-sweep')),
      ev('container.create', 'carol', container('carol-notebook')),
      ev('gpu.reject', 'bob', (e) => e.details?.reason === 'USER_AT_LIMIT', 'USER_AT_LIMIT'),
      ev('auth.denied', 'bob'),
      ev('auth.bypass', 'carol', (e) => e.details?.allowed === false, 'refused'),
      ev('auth.denied', 'carol', (e) => e.details?.rule === 'not-owner', 'not-owner'),
      ev('auth.denied', 'carol', (e) => e.details?.rule === 'privileged', 'privileged'),
    ]);
    expect(story.missing).toBeNull();
    const after = (a: Pred, b: Pred) => {
      const i = firstIndex(events, a);
      const j = firstIndex(events, b);
      expect(i, a.what).toBeGreaterThanOrEqual(0);
      expect(j, b.what).toBeGreaterThan(i);
    };
    const lastStep = story.found.at(-1) ?? 0;
    const idleWarn = ev('maintenance.idle_warning', 'alice', container('alice-train'));
    const idleKill = ev('maintenance.idle_kill', 'alice', container('alice-train'));
    const runWarn = ev('maintenance.runtime_warning', 'bob', container('bob-sweep'));
    const runKill = ev('maintenance.runtime_kill', 'bob', container('bob-sweep'));
    const aliceRelease = ev('gpu.release', 'alice', (e) => JSON.stringify(e.details?.gpus).includes('MIG-'));
    const bobRelease = ev('gpu.release', 'bob');
    const aliceRemoved = ev('container.remove', 'alice', (e) => e.source === 'ds01-cleanup');
    expect(firstIndex(events, idleWarn)).toBeGreaterThan(lastStep);
    after(idleWarn, idleKill);
    after(runWarn, runKill);
    after(idleKill, aliceRelease);
    after(runKill, bobRelease);
    after(idleKill, aliceRemoved);
    // Nothing of carol's was stopped: she holds no GPU and the jobs only limit GPU containers.
    expect(events.filter((e) => /_kill$/.test(e.event_type) && e.user === 'carol')).toEqual([]);
    // The only refusals are the four the story shows.
    expect(events.filter((e) => e.event_type === 'auth.denied').map((e) => `${e.user}:${e.details?.rule}`)).toEqual([
      'bob:gpu:USER_AT_LIMIT',
      'carol:not-owner',
      'carol:privileged',
    ]);
  });

  it('allocator, Docker and the event log agree while GPUs are held and at the end', async () => {
    const running = report.scenario?.agreementWhileRunning;
    expect(running?.agree).toBe(true);
    const prefix = report.scenario?.prefix ?? '';
    expect(running?.allocator.map((h) => `${h.container?.slice(prefix.length)}:${h.uuid.slice(0, 4)}`).sort()).toEqual([
      'alice-train:MIG-',
      'bob-sweep:GPU-',
    ]);
    expect(report.scenario?.agreementAtEnd).toMatchObject({ agree: true, allocator: [], docker: [], eventLog: [] });

    // Checked again here, from the sources themselves, after the demo took everything down.
    const env = {
      ...process.env,
      DS01_STATE_DIR: path.join(dir, 'state'),
      DS01_CONFIG: path.join(dir, 'etc/resource-limits.yaml'),
      DS01_EVENTS_FILE: path.join(dir, 'log/events.jsonl'),
      DS01_NVIDIA_SMI: path.join(repoRoot, 'test-support/bin/nvidia-smi'),
      DS01_FAKE_GPUS: 'demo-4gpu',
    };
    const status = await execa(
      process.execPath,
      [path.join(repoRoot, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs'), 'status', '--json'],
      {
        env,
        reject: false,
      },
    );
    const parsed = JSON.parse(status.stdout) as { allocations: { container?: string; state: string }[] };
    const filters = encodeURIComponent(JSON.stringify({ name: [prefix] }));
    const left = await dockerApi('GET', `/containers/json?all=1&filters=${filters}`);
    expect(left.json).toEqual([]);
    const now = checkAgreement(parsed, left.json as [], events, prefix);
    expect(now.problems).toEqual([]);
    expect(now.allocator).toEqual([]);
  });

  it('leaves nothing running', () => {
    const mine: string[] = [];
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) mine.push(pid);
      } catch {
        /* gone */
      }
    }
    expect(mine).toEqual([]);
  });
});

describe('without Docker', () => {
  it('says what to install and exits 1', async () => {
    const res = await execa('runuser', ['-u', 'alice', '--', process.execPath, demoBin], {
      reject: false,
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/no Docker engine to run on/);
    expect(res.stderr).toMatch(/DOCKER_HOST=unix:\/\/\/nonexistent\/docker.sock does not answer/);
    expect(res.stderr).toMatch(/apt-get install docker.io busybox-static/);
  });
});
