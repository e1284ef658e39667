import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
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
  type Site,
  sleep,
  startContainer,
  until,
} from './helpers.js';

// a100x4 GPUs (test-support/fixtures/nvidia-smi/README.md)
const GPU = [
  'GPU-88bfa489-a208-1706-fee2-2bcef87fa90d',
  'GPU-2955cb34-0454-fd36-bafd-e4714c589273',
  'GPU-c5661bc0-3b22-d06c-46f2-029255c1ae30',
  'GPU-2d3911c1-01c8-c9f3-a501-c9da6f52d406',
] as const;

// A 40 s idle timeout: first warning at 32 s idle, final at 38 s, and the
// stop no earlier than 10 s after the final warning. bob's thresholds make
// CPU never count, so only his container's network traffic can keep it alive.
const CONFIG = `
defaults:
  idle_timeout_h: 40s
policies:
  grace_period_m: 0
  warning_lead_m: 10s
  sigterm_grace_s: 1
user_overrides:
  bob:
    policies:
      cpu_idle_threshold: 100000
      network_idle_threshold: 20000
`;

describeDocker('ds01-idle: detection, two warnings, stop', () => {
  let site: Site;
  const c = {} as Record<
    'sleeper' | 'busy' | 'net' | 'gpuProc' | 'gpuUtil' | 'exec' | 'cpuOnly' | 'protected',
    { id: string; name: string }
  >;
  const runs: RunResult[] = [];
  const runningAfter: Record<string, boolean>[] = [];

  beforeAll(async () => {
    c.sleeper = await startContainer({ user: 'alice', gpus: [GPU[2]] });
    // A busy loop, capped at a tenth of a core so the test stays cheap.
    c.busy = await startContainer({ user: 'alice', gpus: [GPU[3]], cpus: 0.1, cmd: ['sh', '-c', 'while :; do :; done'] });
    // Loopback traffic only (the test daemon has no other network): a 64 KiB download a second.
    c.net = await startContainer({
      user: 'bob',
      labels: { 'ds01.gpu.uuids': 'MIG-d7341a4d-8617-551d-916a-14fd2230c985' },
      cmd: [
        'sh',
        '-c',
        'mkdir -p /tmp/www && head -c 65536 /dev/zero > /tmp/www/blob && httpd -p 8080 -h /tmp/www && while :; do wget -q -O /dev/null http://127.0.0.1:8080/blob; sleep 1; done',
      ],
    });
    c.gpuProc = await startContainer({ user: 'carol', gpus: [GPU[0]] });
    c.gpuUtil = await startContainer({ user: 'carol', gpus: [GPU[1]] });
    c.exec = await startContainer({ user: 'carol', labels: { 'ds01.gpu.uuid': 'MIG-49bc7ce8-bff5-5fcc-a986-bec2cd85efcd' } });
    c.cpuOnly = await startContainer({ user: 'alice' });
    c.protected = await startContainer({ user: 'alice', gpus: [GPU[2]], labels: { 'ds01.protected': 'true' } });

    const pid = (await inspect(c.gpuProc.id)).State.Pid;
    site = makeSite(CONFIG);
    const apps = path.join(site.dir, 'apps.csv');
    fs.writeFileSync(apps, `pid, process_name, gpu_uuid, used_gpu_memory [MiB]\n${pid}, python3, ${GPU[0]}, 1024 MiB\n`);
    site.env.DS01_FAKE_COMPUTE_APPS = apps;
    site.env.DS01_FAKE_GPU_UTIL = `${GPU[1]}=85`;

    // An attached exec session in c.exec for the whole test.
    const ex = await dockerApi<{ Id: string }>('POST', `/containers/${c.exec.id}/exec`, { Cmd: ['sleep', '3600'], AttachStdout: false });
    await dockerApi('POST', `/exec/${ex.json?.Id}/start`, { Detach: true });

    const filter = only(...Object.values(c).map((x) => x.name));
    let latency = 0;
    const step = async () => {
      const spawned = Date.now();
      runs.push(await runIdle(site, filter));
      const state: Record<string, boolean> = {};
      for (const [k, v] of Object.entries(c)) state[k] = await isRunning(v.id);
      runningAfter.push(state);
      const r = row(runs[runs.length - 1] as RunResult, c.sleeper.name);
      // How long after its spawn a run takes its sample (seconds on a loaded machine).
      if (r?.sample) latency = Date.parse(r.sample.at) - spawned;
      return r;
    };
    // Runs are timed from the job's own schedule (in its report), aiming the
    // sample at the middle of the first-warning window: slow runs on a loaded
    // machine shift the runs, not the outcome.
    await step(); // baseline
    await sleep(3000);
    const idle = await step();
    const middle = (Date.parse(idle.first_warning_at) + Date.parse(idle.final_warning_at)) / 2;
    await until(middle, -latency);
    while ((await step()).outcome === 'idle' && runs.length < 12);
    const first = row(runs[runs.length - 1] as RunResult, c.sleeper.name);
    await until(Date.parse(first.final_warning_at), 300);
    const final = await step(); // final warning
    await step(); // within the lead time: still running
    await until(Date.parse(final.stop_at), 300);
    await step(); // stopped
  }, 240_000);

  it('runs cleanly every time', () => {
    for (const r of runs) expect(r.exitCode, r.stderr).toBe(0);
  });

  it('takes a baseline on the first run and judges from the second', () => {
    expect(row(runs[0] as RunResult, c.sleeper.name).outcome).toBe('baseline');
    expect(row(runs[1] as RunResult, c.sleeper.name).outcome).toBe('idle');
  });

  it('warns a sleeping container twice, keeps it past its timeout until the lead time is over, then stops it', () => {
    const seen = runs.map((r) => row(r, c.sleeper.name)?.outcome).filter(Boolean);
    // baseline, idle, first, final, idle within the lead time (unless a run was
    // very slow to start), stopped; once stopped it is no longer listed.
    expect(seen.join(' ')).toMatch(/^baseline (idle )+warned_first warned_final (idle )*stopped$/);
    const stopIndex = runs.findIndex((r) => row(r, c.sleeper.name)?.outcome === 'stopped');
    expect(runningAfter.slice(0, stopIndex).every((s) => s.sleeper)).toBe(true);
    expect(runningAfter.at(-1)?.sleeper).toBe(false);

    const inbox = readInbox(site, 'alice').filter((n) => n.container === c.sleeper.name);
    expect(inbox.map((n) => n.severity)).toEqual(['warning', 'final', 'stopped']);
    expect(inbox[0].body).toContain('touch /workspace/.keep-alive');
    const warnings = readEvents(site, 'maintenance.idle_warning').filter((e) => e.details.container === c.sleeper.name);
    expect(warnings.map((e) => e.details.level)).toEqual(['first', 'final']);
    // The final warning went out at least the lead time before the stop.
    const kill = readEvents(site, 'maintenance.idle_kill');
    expect(kill).toHaveLength(1);
    expect(kill[0]).toMatchObject({ user: 'alice', details: { container: c.sleeper.name, container_id: c.sleeper.id, timeout_s: 40 } });
    expect(kill[0]?.details.idle_s).toBeGreaterThanOrEqual(40);
    expect(kill[0]?.details.samples.length).toBeGreaterThan(3);
    const finalStopAt = Date.parse(warnings[1]?.details.stop_at);
    const finalRun = runs.find((r) => row(r, c.sleeper.name).outcome === 'warned_final') as RunResult;
    const finalSentAt = Date.parse(row(finalRun, c.sleeper.name).sample.at);
    expect(finalStopAt - finalSentAt).toBeGreaterThanOrEqual(10_000);
  });

  it('never warns or stops a container burning CPU', () => {
    expect(runs.slice(1).map((r) => row(r, c.busy.name).outcome)).toEqual(Array(runs.length - 1).fill('active'));
    expect(row(runs[1] as RunResult, c.busy.name).sample.active).toContain('cpu');
    expect(runningAfter.every((s) => s.busy)).toBe(true);
    expect(readInbox(site, 'alice').filter((n) => n.container === c.busy.name)).toEqual([]);
  });

  it('counts loopback network traffic as activity', () => {
    for (const r of runs.slice(1)) {
      expect(row(r, c.net.name).outcome).toBe('active');
      expect(row(r, c.net.name).sample.active).toEqual(['network']);
    }
    expect(runningAfter.every((s) => s.net)).toBe(true);
  });

  it('counts a compute process of the container (by its host PID) as GPU activity', () => {
    for (const r of runs.slice(1)) expect(row(r, c.gpuProc.name).sample.active).toContain('gpu_process');
    expect(runningAfter.every((s) => s.gpuProc)).toBe(true);
  });

  it("counts utilisation of the container's own whole GPU as activity", () => {
    for (const r of runs.slice(1)) expect(row(r, c.gpuUtil.name).sample.active).toEqual(['gpu_util']);
  });

  it('counts an attached exec session as activity', () => {
    for (const r of runs.slice(1)) expect(row(r, c.exec.name).sample.active).toEqual(['exec']);
    expect(readInbox(site, 'carol')).toEqual([]);
  });

  it('leaves CPU-only and protected containers alone', () => {
    expect(row(runs.at(-1) as RunResult, c.cpuOnly.name)).toMatchObject({ outcome: 'skipped' });
    expect(row(runs.at(-1) as RunResult, c.protected.name)).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('ds01.protected'),
    });
    expect(runningAfter.every((s) => s.cpuOnly && s.protected)).toBe(true);
  });

  it('keeps state per container id and drops the stopped one', () => {
    const state = readState(site);
    expect(Object.keys(state.containers)).not.toContain(c.sleeper.id);
    expect(state.containers[c.busy.id]).toMatchObject({ name: c.busy.name, user: 'alice' });
  });

  it('reads GPU demand from ds01-gpu status, and logs a summary per run', () => {
    expect(runs[0]?.report.demand).toMatchObject({ source: 'ds01-gpu', allocated: 1, total: 8, high: false });
    expect(readEvents(site, 'maintenance.run_summary')).toHaveLength(runs.length);
    expect(readEvents(site, 'maintenance.run_summary').map((e) => e.details.job)).toEqual(runs.map(() => 'idle'));
  });
});
