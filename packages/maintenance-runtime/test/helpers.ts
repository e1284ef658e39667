import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSiteConfig } from '@ds01/events-core/config';
import Docker from 'dockerode';
import { execa, type Options } from 'execa';
import { afterAll } from 'vitest';
import { dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { type LoggedEvent, loggedEvents, readJsonLines } from '../../../test-support/jsonl.js';
import { enforceRuntime, type RunReport } from '../src/index.js';

export const BIN = path.resolve(import.meta.dirname, '../dist/bin/ds01-runtime.js');
// Per test file (each runs in its own process): clean-up never touches another file's containers.
const LABEL = 'ds01.test.runtime';
const LABEL_VALUE = String(process.pid);

const made: string[] = [];
afterAll(async () => {
  await removeContainersByLabel(`${LABEL}=${LABEL_VALUE}`);
  while (made.length) fs.rmSync(made.pop() as string, { recursive: true, force: true });
});

/** One test's world: its config, state dir, event log, and a name prefix for its containers. */
export interface Site {
  dir: string;
  config: string;
  stateDir: string;
  eventsFile: string;
  prefix: string;
  env: Record<string, string>;
}

export function makeSite(configYaml: string, exemptionsYaml?: string): Site {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-runtime-'));
  fs.chmodSync(dir, 0o755);
  made.push(dir);
  const config = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(config, configYaml);
  if (exemptionsYaml !== undefined) fs.writeFileSync(path.join(dir, 'lifecycle-exemptions.yaml'), exemptionsYaml);
  const stateDir = path.join(dir, 'state');
  const eventsFile = path.join(dir, 'events.jsonl');
  const prefix = uniqueName('rt');
  return {
    dir,
    config,
    stateDir,
    eventsFile,
    prefix,
    env: { DS01_CONFIG: config, DS01_STATE_DIR: stateDir, DS01_EVENTS_FILE: eventsFile },
  };
}

export interface JobRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  report?: RunReport;
}

/** Runs the built bin for this site's containers only; `--json` unless told otherwise. */
export async function runJob(site: Site, args: string[] = [], options: Options = {}): Promise<JobRun> {
  const argv = [BIN, '--name-filter', site.prefix, ...(args.includes('--text') ? args.filter((a) => a !== '--text') : ['--json', ...args])];
  const r = await execa(process.execPath, argv, { reject: false, ...options, env: { ...site.env, ...(options.env ?? {}) } });
  const stdout = String(r.stdout ?? '');
  let report: RunReport | undefined;
  if (argv.includes('--json') && stdout.startsWith('{')) {
    const parsed = JSON.parse(stdout) as RunReport & { status?: string };
    if (parsed.job === 'runtime') report = parsed;
  }
  return { exitCode: r.exitCode ?? -1, stdout, stderr: String(r.stderr ?? ''), ...(report ? { report } : {}) };
}

export interface Started {
  id: string;
  name: string;
}

/** Creates and starts a container in this site (a GPU one unless `gpu: false`). */
export async function startContainer(
  site: Site,
  key: string,
  opts: { user?: string; type?: string; gpu?: boolean; cmd?: string; labels?: Record<string, string> } = {},
): Promise<Started> {
  const name = `${site.prefix}-${key}`;
  const labels: Record<string, string> = { [LABEL]: LABEL_VALUE, 'ds01.managed': 'true', ...(opts.labels ?? {}) };
  if (opts.user) labels['ds01.user'] = opts.user;
  labels['ds01.container_type'] = opts.type ?? 'atomic';
  const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
    Image: testImage,
    Cmd: ['sh', '-c', opts.cmd ?? 'while true; do sleep 1; done'],
    Labels: labels,
    HostConfig: {
      NetworkMode: 'none',
      ...(opts.gpu === false ? {} : { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['GPU-test-0'], Capabilities: [['gpu']] }] }),
    },
  });
  if (res.status !== 201 || !res.json) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  await dockerPost(`/containers/${res.json.Id}/start`);
  return { id: res.json.Id, name };
}

export async function dockerPost(apiPath: string): Promise<void> {
  const res = await dockerApi('POST', apiPath);
  if (res.status !== 204 && res.status !== 304) throw new Error(`POST ${apiPath}: ${res.status} ${res.text}`);
}

export interface InspectState {
  Running: boolean;
  Status: string;
  StartedAt: string;
  FinishedAt: string;
  ExitCode: number;
}

export async function stateOf(id: string): Promise<InspectState> {
  const res = await dockerApi<{ State: InspectState }>('GET', `/containers/${id}/json`);
  if (res.status !== 200 || !res.json) throw new Error(`inspect ${id}: ${res.status}`);
  return res.json.State;
}

export type { LoggedEvent };

export const eventsOf = (site: Site, type?: string): LoggedEvent[] => loggedEvents(site.eventsFile, type);

export const inboxOf = (site: Site, user: string) =>
  readJsonLines<{ severity: string; title: string; body: string; container?: string }>(path.join(site.stateDir, 'inbox', `${user}.jsonl`));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One run through the public API, in this process: the same code as the bin
 * without a node start-up per run, so runs can follow each other closely
 * enough for limits of seconds. The site's paths go through the environment,
 * as for the bin.
 */
export async function runApi(site: Site, options: { dryRun?: boolean } = {}): Promise<RunReport> {
  Object.assign(process.env, site.env);
  return enforceRuntime({
    docker: new Docker(),
    config: loadSiteConfig(site.config),
    nameFilter: site.prefix,
    dryRun: options.dryRun ?? false,
  });
}

/**
 * Runs the job again and again (like a very fast cron) until `done` says so;
 * returns every report. The deadline only keeps a broken build from hanging
 * the suite.
 */
export async function runUntil(site: Site, done: (r: RunReport) => boolean, deadlineMs = 60_000): Promise<RunReport[]> {
  const reports: RunReport[] = [];
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const report = await runApi(site);
    reports.push(report);
    if (process.env.RT_DEBUG) {
      process.stderr.write(
        `run ${report.started_at} ${JSON.stringify(report.containers.map((c) => [c.name.slice(-6), c.action, c.runtime_s, c.outcome, c.status, c.reason, c.detail]))}\n`,
      );
    }
    if (done(report)) return reports;
    await sleep(250);
  }
  throw new Error(`condition not reached within ${deadlineMs} ms; last report: ${JSON.stringify(reports.at(-1))}`);
}

export function entryOf(r: RunReport, id: string) {
  return r.containers.find((c) => c.id === id);
}
