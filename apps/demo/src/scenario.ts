import { type Agreement, checkAgreement } from './check-agreement.js';
import { DEMO_TIMES } from './demo-config.js';
import type { DemoDocker } from './ensure-docker.js';
import type { Narrator } from './narrate.js';
import { type LoggedEvent, readEventsFrom } from './read-log.js';
import type { DemoSite } from './site.js';
import { runTool, type ToolName, type ToolRun } from './tools.js';

export interface StepRecord {
  step: string;
  user?: string;
  command?: string;
  exitCode?: number;
  expected: 'ok' | 'refused' | 'info';
  /** The outcome was the one the scenario shows. */
  asExpected: boolean;
}

export interface ScenarioResult {
  prefix: string;
  steps: StepRecord[];
  /** Who holds which GPU while alice's and bob's containers run, and at the end. */
  agreementWhileRunning: Agreement | null;
  agreementAtEnd: Agreement | null;
  /** Stops the jobs made, by container. */
  stopped: { idle: boolean; runtime: boolean; released: boolean };
  /** What the scenario could not show, and why. */
  gaps: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const INTERESTING = /^(maintenance\.(idle|runtime)_(warning|kill)|gpu\.(hold|release)|container\.(stop|remove|die))$/;

function describeEvent(e: LoggedEvent): string {
  const d = e.details ?? {};
  const what = [d.container, d.reason, d.until ? `until ${d.until}` : undefined, d.level ?? d.stage, d.idle_for ?? d.runtime]
    .filter((x) => x !== undefined && x !== null && x !== '')
    .join(' · ');
  return `${e.event_type.padEnd(28)} ${String(e.user ?? '-').padEnd(6)} ${what}`;
}

/**
 * The story: three users, two groups, four GPUs (one in MIG slices). Each
 * step runs the real bins the way a host runs them (the wrapper for users, the
 * jobs as root on a schedule), only with small limits and a fast schedule.
 */
export async function runScenario(
  site: DemoSite,
  docker: DemoDocker,
  n: Narrator,
  missing: ToolName[],
  prefix: string,
): Promise<ScenarioResult> {
  const name = (s: string) => `${prefix}${s}`;
  const img = docker.image;
  const steps: StepRecord[] = [];
  const gaps: string[] = [];
  const result: ScenarioResult = {
    prefix,
    steps,
    agreementWhileRunning: null,
    agreementAtEnd: null,
    stopped: { idle: false, runtime: false, released: false },
    gaps,
  };
  const have = (t: ToolName) => !missing.includes(t);

  const asUser = async (
    step: string,
    user: string,
    args: string[],
    expected: 'ok' | 'refused',
    note: (r: ToolRun) => string | undefined,
    extraEnv: NodeJS.ProcessEnv = {},
  ) => {
    const r = await runTool('ds01-docker', args, { ...site.envAs(user), ...extraEnv });
    const asExpected = expected === 'ok' ? r.exitCode === 0 : r.exitCode !== 0;
    const envPrefix = Object.entries(extraEnv)
      .map(([k, v]) => `${k}=${v} `)
      .join('');
    n.command(user, `${envPrefix}docker ${args.join(' ')}`, r, note(r));
    steps.push({ step, user, command: `docker ${args.join(' ')}`, exitCode: r.exitCode, expected, asExpected });
    return r;
  };
  const gpuStatus = async (): Promise<Record<string, unknown> | null> => {
    if (!have('ds01-gpu')) return null;
    const r = await runTool('ds01-gpu', ['status', '--json'], site.env);
    try {
      return JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      n.say(`ds01-gpu status did not answer JSON (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
      return null;
    }
  };
  const demoContainers = async () => {
    const filters = encodeURIComponent(JSON.stringify({ name: [prefix] }));
    const res = await docker.request('GET', `/containers/json?all=1&filters=${filters}`);
    return (res.json as { Names?: string[]; State?: string; Labels?: Record<string, string>; Id: string }[]) ?? [];
  };
  const agreement = async (label: string): Promise<Agreement | null> => {
    const status = await gpuStatus();
    if (!status) {
      gaps.push(`agreement check (${label}): ds01-gpu status unavailable`);
      return null;
    }
    const a = checkAgreement(status, await demoContainers(), readEventsFrom(site.eventsFile).events, prefix);
    n.say(
      a.agree
        ? `allocator, Docker and event log agree (${label}): ${a.allocator.map((h) => `${h.container?.slice(prefix.length)} → ${h.uuid.slice(0, 12)}…`).join(', ') || 'no GPU held'}`
        : `DISAGREEMENT (${label}): ${a.problems.join('; ')}`,
    );
    return a;
  };
  const printGpuTable = async () => {
    const status = (await gpuStatus()) as {
      gpus?: { slot: string; name?: string; mig?: boolean; state: string; user?: string; container?: string; weight?: number }[];
    } | null;
    if (!status?.gpus) return;
    n.block(
      status.gpus
        .map((g) =>
          `slot ${String(g.slot).padEnd(4)} ${(g.name ?? 'GPU').padEnd(34)} ${g.state.padEnd(8)} ${g.user ?? ''} ${g.container ? g.container.slice(prefix.length) : ''}`.trimEnd(),
        )
        .join('\n'),
    );
  };

  let early: Promise<void> = Promise.resolve();
  /** Lines of the event log already looked at for the jobs' part of the story. */
  let seen: number | undefined;

  // ---------------------------------------------------------------- creation
  n.section('1. Users create containers through the wrapper (docker = ds01-docker)');
  if (!have('ds01-docker')) gaps.push('containers through the wrapper: ds01-docker is not built');
  else {
    await asUser('alice-gpu', 'alice', ['run', '-d', '--name', name('alice-train'), '--gpus', '1', img, 'sleep', '600'], 'ok', (r) =>
      r.exitCode === 0 ? 'a student: ds01 gave her a MIG slice, not a whole GPU' : undefined,
    );
    await asUser('bob-gpu', 'bob', ['run', '-d', '--name', name('bob-sweep'), '--gpus', '1', img, 'sleep', '600'], 'ok', (r) =>
      r.exitCode === 0 ? 'a researcher: one whole A100' : undefined,
    );
    await asUser(
      'carol-cpu',
      'carol',
      ['run', '-d', '--name', name('carol-notebook'), img, 'sleep', '600'],
      'ok',
      () => 'no GPU asked, none given',
    );
    n.say('ds01-gpu status:');
    await printGpuTable();
    // Cron may fire at any moment: a first run now takes the idle job's baseline sample while the story goes on.
    seen = readEventsFrom(site.eventsFile).lines;
    early = Promise.all(
      (['ds01-idle', 'ds01-runtime'] as const).filter(have).map((tool) => runTool(tool, ['--name-filter', prefix], site.env)),
    ).then(() => undefined);

    n.section('2. Limits and isolation');
    await asUser(
      'bob-quota',
      'bob',
      ['run', '-d', '--name', name('bob-second'), '--gpus', '1', img, 'sleep', '600'],
      'refused',
      () => 'bob already uses his 1 GPU-equivalent',
    );
    const ps = await asUser(
      'carol-bypass',
      'carol',
      ['ps', '-a', '--format', '{{.Names}}'],
      'ok',
      () => 'the bypass switch is for admins: ignored and logged, carol still sees only her own containers',
      {
        DS01_WRAPPER_BYPASS: '1',
      },
    );
    if (/alice-train|bob-sweep/.test(ps.stdout)) {
      gaps.push('the bypass was not refused: carol saw other users’ containers');
      const last = steps.at(-1);
      if (last) last.asExpected = false;
    }
    await asUser('carol-other', 'carol', ['stop', name('alice-train')], 'refused', () => 'not her container');
    await asUser(
      'carol-privileged',
      'carol',
      ['run', '-d', '--privileged', '--name', name('carol-root'), img, 'sleep', '600'],
      'refused',
      () => '--privileged would make her root on the host',
    );
    result.agreementWhileRunning = await agreement('while running');
  }

  // ---------------------------------------------------------------- maintenance
  n.section(`3. The maintenance jobs (cron runs them every 5 minutes; here every ${DEMO_TIMES.jobIntervalMs / 1000} s)`);
  n.say(
    `students stop after ${DEMO_TIMES.idleTimeoutS} s idle; researchers after ${DEMO_TIMES.maxRuntimeS} s of runtime; warnings come first.`,
  );
  const jobs: [ToolName, string[]][] = [
    ['ds01-idle', ['--name-filter', prefix]],
    ['ds01-runtime', ['--name-filter', prefix]],
  ];
  for (const [tool] of jobs) if (!have(tool)) gaps.push(`${tool} is not built: its part of the story is missing`);
  await early;
  seen ??= readEventsFrom(site.eventsFile).lines;
  const showNewEvents = () => {
    const { events, lines } = readEventsFrom(site.eventsFile, seen);
    seen = lines;
    for (const e of events) {
      if (INTERESTING.test(e.event_type) && String(e.details?.container ?? prefix).startsWith(prefix)) n.say(describeEvent(e));
      if (e.event_type === 'maintenance.idle_kill') result.stopped.idle = true;
      if (e.event_type === 'maintenance.runtime_kill') result.stopped.runtime = true;
    }
  };
  // Bounded in job runs, not seconds: on a loaded machine each run takes longer, and the limits are
  // judged by the jobs' own clocks, so only a count of runs tells "not happening" from "slow".
  const startedJobs = Date.now();
  let rounds = 0;
  const wantIdle = have('ds01-idle') && have('ds01-docker');
  const wantRuntime = have('ds01-runtime') && have('ds01-docker');
  while ((wantIdle && !result.stopped.idle) || (wantRuntime && !result.stopped.runtime)) {
    const limitsPassed = Date.now() - startedJobs > (DEMO_TIMES.maxRuntimeS + DEMO_TIMES.warningLeadS) * 1000;
    if (rounds >= DEMO_TIMES.maxJobRounds && limitsPassed) {
      if (wantIdle && !result.stopped.idle) gaps.push(`the idle job did not stop alice’s container in ${rounds} runs`);
      if (wantRuntime && !result.stopped.runtime) gaps.push(`the runtime job did not stop bob’s container in ${rounds} runs`);
      break;
    }
    // Like two cron entries firing in the same minute: the jobs run side by side.
    const runs = await Promise.all(jobs.filter(([tool]) => have(tool)).map(([tool, args]) => runTool(tool, args, site.env)));
    for (const r of runs) {
      if (r.exitCode !== 0 && r.exitCode !== 1) n.say(`${r.tool} exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    showNewEvents();
    rounds++;
    n.progress(`  … waiting for the idle and runtime limits (job run ${rounds})`);
    await sleep(DEMO_TIMES.jobIntervalMs);
  }
  showNewEvents();
  steps.push({ step: 'idle-stop', expected: 'ok', asExpected: result.stopped.idle });
  steps.push({ step: 'runtime-stop', expected: 'ok', asExpected: result.stopped.runtime });

  n.section(`4. Cleanup: stopped GPU containers keep their GPU for ${DEMO_TIMES.gpuHoldS} s, then ds01-cleanup frees it`);
  if (!have('ds01-cleanup')) gaps.push('ds01-cleanup is not built: GPUs are not released by cleanup');
  else {
    await printGpuTable();
    for (let attempt = 0; attempt < DEMO_TIMES.maxCleanupRuns; attempt++) {
      // The holds started when the jobs stopped the containers; a first try right away usually finds them over.
      await sleep(DEMO_TIMES.gpuHoldS * 500);
      const r = await runTool('ds01-cleanup', ['all', '--name-filter', `${prefix}*`], site.env);
      n.command('root', `ds01-cleanup all --name-filter '${prefix}*'`, { ...r, stdout: r.stdout.split('\n').slice(-6).join('\n') });
      showNewEvents();
      const left = (await demoContainers()).filter((c) => c.Labels?.['ds01.gpu.uuids']);
      if (left.length === 0) {
        result.stopped.released = true;
        break;
      }
    }
    if (!result.stopped.released) gaps.push(`cleanup did not release every GPU in ${DEMO_TIMES.maxCleanupRuns} runs`);
    steps.push({ step: 'cleanup-release', expected: 'ok', asExpected: result.stopped.released });
    await printGpuTable();
  }
  result.agreementAtEnd = await agreement('at the end');
  return result;
}
