import crypto from 'node:crypto';
import fs from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { DEMO_USERS } from './demo-config.js';
import { ensureDemoDocker, NO_DOCKER_HELP } from './ensure-docker.js';
import { ensureDemoUsers } from './ensure-users.js';
import type { Narrator } from './narrate.js';
import { readEventsFrom } from './read-log.js';
import { runScenario, type ScenarioResult } from './scenario.js';
import { prepareSite } from './site.js';
import { findRealDocker, interruptTools, missingTools, runTool, toolPath } from './tools.js';

export interface DemoOptions {
  /** Use this directory for the site and keep it afterwards (tests inspect it). */
  dir?: string;
  narrator: Narrator;
  log: (msg: string) => void;
}

export interface DemoReport {
  status: 'ok' | 'incomplete' | 'no-docker' | 'needs-root' | 'error';
  message?: string;
  dir?: string;
  dockerHost?: string;
  missingTools: string[];
  scenario?: ScenarioResult;
  /** event_type of every event the run logged, in log order. */
  eventTypes: string[];
  seconds: number;
}

/**
 * Sets the stage (Docker, users, a site directory), runs the scenario, shows
 * the event log, and takes everything down again whatever happened.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const n = opts.narrator;
  const missing = missingTools();
  const report: DemoReport = { status: 'ok', missingTools: missing, eventTypes: [], seconds: 0 };
  if (missing.length) n.say(`not built yet, so left out of the story: ${missing.join(', ')} (run npm run build)`);

  const realDocker = findRealDocker();
  if (!realDocker) {
    return {
      ...report,
      status: 'no-docker',
      message: `no Docker client found (the wrapper needs the real one).\n${NO_DOCKER_HELP}`,
      seconds: 0,
    };
  }
  const docker = await ensureDemoDocker(opts.log);
  if ('unavailable' in docker) {
    return {
      ...report,
      status: 'no-docker',
      message: `${docker.unavailable}\n\n${NO_DOCKER_HELP}`,
      seconds: (Date.now() - started) / 1000,
    };
  }
  report.dockerHost = docker.dockerHost;
  if (process.getuid?.() !== 0) {
    await docker.stop();
    return {
      ...report,
      status: 'needs-root',
      message: 'the demo acts for alice, bob and carol (DS01_AS_USER), which ds01 allows only to root: run it as root (sudo npm run demo)',
      seconds: (Date.now() - started) / 1000,
    };
  }
  let users: ReturnType<typeof ensureDemoUsers> | undefined;
  let watcher: ResultPromise | undefined;
  const site = prepareSite({ ...(opts.dir ? { dir: opts.dir } : {}), dockerHost: docker.dockerHost, realDocker });
  report.dir = site.dir;
  // Every container the demo makes is named with this prefix, so teardown finds them whatever happened.
  const prefix = `ds01demo-${crypto.randomBytes(2).toString('hex')}-`;
  let tornDown: Promise<void> | undefined;
  /** One teardown step; a failure is reported and the next step still runs. */
  const step = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (err) {
      opts.log(`teardown: ${what}: ${(err as Error).message}`);
    }
  };
  const teardown = () =>
    (tornDown ??= (async () => {
      await step('stopping the watcher', async () => {
        if (!watcher) return;
        watcher.kill('SIGTERM');
        await Promise.race([watcher, new Promise((r) => setTimeout(r, 5000))]);
        watcher.kill('SIGKILL');
      });
      // Nothing keeps running: every demo container goes, whatever state it is in.
      await step('removing the demo containers', async () => {
        const filters = encodeURIComponent(JSON.stringify({ name: [prefix] }));
        const list = await docker.request('GET', `/containers/json?all=1&filters=${filters}`);
        for (const c of (list.json as { Id: string }[] | null) ?? []) await docker.request('DELETE', `/containers/${c.Id}?force=1&v=1`);
      });
      if (docker.importedImage)
        await step('removing the demo image', () => docker.request('DELETE', `/images/${encodeURIComponent(docker.image)}`));
      await step('stopping Docker', () => docker.stop());
      await step('removing the demo users', () => users?.remove());
      if (!opts.dir) await step(`removing ${site.dir}`, () => fs.rmSync(site.dir, { recursive: true, force: true, maxRetries: 5 }));
    })());
  // Ctrl-C mid-story still leaves nothing behind.
  const onSignal = (signal: NodeJS.Signals) => {
    if (tornDown) return;
    n.progress(`${signal}: removing the demo's containers, users and files…`);
    interruptTools();
    void teardown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  // `on`, not `once`: execa's signal-exit re-raises a signal that no other listener is left to handle.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    users = ensureDemoUsers(DEMO_USERS, opts.log);
    if (!missing.includes('ds01-docker-watch')) {
      // The watcher logs every container lifecycle event, as the systemd service does on a host.
      watcher = execa(process.execPath, [toolPath('ds01-docker-watch'), 'run'], {
        env: site.env,
        extendEnv: false,
        reject: false,
        stdio: 'ignore',
      });
    }
    n.section('ds01 demo: a shared 4-GPU server, three users, compressed time');
    n.say(
      `site directory ${site.dir} (config, event log, state), Docker at ${docker.dockerHost}${docker.private ? ' (private, removed afterwards)' : ''}`,
    );
    n.say('GPUs (stand-in nvidia-smi): three whole A100 80GB, and one A100 split into MIG slices 3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb');
    n.say('groups: students alice, carol (MIG slices only, 0.5 GPU-eq, idle limit) · researchers bob (whole GPU, 1 GPU-eq, runtime limit)');

    const scenario = await runScenario(site, docker, n, missing, prefix);
    report.scenario = scenario;

    n.section('5. What happened, from the event log (ds01-events)');
    if (!missing.includes('ds01-events')) {
      const table = await runTool('ds01-events', ['--all', '--utc'], site.env);
      n.block(table.stdout || table.stderr);
      n.section('ds01-events --summary');
      const summary = await runTool('ds01-events', ['--summary', '--all'], site.env);
      n.block(summary.stdout || summary.stderr);
    } else scenario.gaps.push('ds01-events is not built: the log is not shown');
    if (scenario.gaps.length || scenario.steps.some((s) => !s.asExpected)) report.status = 'incomplete';
  } catch (err) {
    report.status = 'error';
    report.message = (err as Error).stack ?? String(err);
  } finally {
    report.eventTypes = readEventsFrom(site.eventsFile).events.map((e) => e.event_type);
    await teardown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    report.seconds = Math.round((Date.now() - started) / 100) / 10;
  }
  return report;
}
