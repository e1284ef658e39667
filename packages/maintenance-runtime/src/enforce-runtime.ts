import { logEvent } from '@ds01/events-core';
import { type ExemptionList, loadExemptions, type SiteConfig } from '@ds01/events-core/config';
import {
  type ClassifiedContainer,
  type ContainerLister,
  listClassifiedContainers,
  type NoticeResult,
  type StoppableContainer,
  sendNotice,
  stopContainerChecked,
} from '@ds01/events-core/jobs';
import type { StateContext, StateFile } from '@ds01/events-core/state';
import { formatDuration } from '@ds01/events-core/time';
import { type Decision, decide } from './decide.js';
import { exemptNotice, JOB, type NoticeFacts, stoppedNotice, warningNotice } from './notices.js';
import { describeContainer } from './report-lines.js';
import { type RuntimePolicy, resolveRuntimePolicy } from './resolve-runtime-policy.js';
import { closeLap, observeLap, runtimeMs } from './runtime-ledger.js';
import { type ContainerRecord, emptyState, type RuntimeState, runtimeStateFile } from './runtime-state.js';

/** A Docker client: listing and inspect for the run, inspect and stop for the one container acted on. */
export interface RuntimeDocker extends ContainerLister {
  getContainer(id: string): StoppableContainer;
}

export interface EnforceOptions {
  docker: RuntimeDocker;
  config: SiteConfig;
  dryRun?: boolean;
  /** Docker's name filter (substring or regular expression). */
  nameFilter?: string;
  /** Limit containers without GPUs too (DS01 and the default: GPU containers only). */
  includeCpuOnly?: boolean;
  /** One line per thing done (and with `verbose`, per container judged). */
  log?: (line: string) => void;
  /** Told before waits that can last seconds (a stop with its grace). */
  progress?: (line: string) => void;
  verbose?: boolean;
  state?: StateFile<RuntimeState>;
  clock?: () => number;
}

export type Action =
  | 'skip'
  | 'ok'
  | 'first_warning'
  | 'final_warning'
  | 'wait'
  | 'stop'
  | 'exempt'
  | 'exempt_notice'
  | 'no_limit'
  | 'not_running';

export interface ContainerReport {
  id: string;
  name: string;
  user: string | null;
  type: string;
  status: string;
  gpu: boolean;
  action: Action;
  reason: string;
  mode?: string;
  runtime_s?: number;
  max_runtime_h?: number | null;
  max_runtime_source?: string;
  stop_at?: string | null;
  /** What happened when acting: done, skipped (changed meanwhile), failed, or dry_run. */
  outcome?: 'done' | 'skipped' | 'failed' | 'dry_run';
  detail?: string;
}

export interface RunReport {
  job: 'runtime';
  dry_run: boolean;
  started_at: string;
  finished_at: string;
  containers: ContainerReport[];
  counts: Record<string, number>;
  failures: number;
  /** Problems worked around (bad exemption entries, a recovered state file, unreadable containers). */
  warnings: string[];
}

/** A container judged by this run; `judged` is absent for those out of scope. */
interface Work {
  container: ClassifiedContainer;
  report: ContainerReport;
  judged?: Judged;
}

interface Judged {
  record: ContainerRecord;
  policy: RuntimePolicy;
  runtimeMs: number;
  decision: Decision;
}

const RUNNING = new Set(['running', 'paused']);
const ACTION_CONCURRENCY = 8;

/** One run of the job: observe every container, then warn, stop or notify, each re-checked and isolated. */
export async function enforceRuntime(options: EnforceOptions): Promise<RunReport> {
  const clock = options.clock ?? Date.now;
  const now = clock();
  const log = options.log ?? (() => {});
  const dryRun = options.dryRun ?? false;
  const state = options.state ?? runtimeStateFile();
  const warnings: string[] = [];
  let failures = 0;

  const exemptions = loadExemptions(options.config.dir);
  for (const problem of [...options.config.warnings, ...exemptions.problems]) {
    warnings.push(problem);
    log(`warning: ${problem}`);
  }

  const listing = await listClassifiedContainers(options.docker, {
    all: true,
    ...(options.nameFilter ? { nameFilter: options.nameFilter } : {}),
  });
  for (const e of listing.errors) {
    failures++;
    warnings.push(`${e.id.slice(0, 12)}: cannot inspect: ${e.message}`);
    log(`error: ${e.id.slice(0, 12)}: cannot inspect: ${e.message}`);
  }

  const observe = (data: RuntimeState, context: StateContext): Work[] => {
    if (context.recovered) {
      const msg = dryRun
        ? `state file is unreadable (${context.recovered.error}); a real run would move it aside and rebuild it from what Docker reports`
        : `state file was unreadable (${context.recovered.error}); moved to ${context.recovered.movedTo || '(could not move it)'} and rebuilt: runtimes restart from what Docker reports now`;
      warnings.push(msg);
      log(`warning: ${msg}`);
      if (!dryRun) logEvent('maintenance.warning', { source: JOB, details: { job: 'runtime', code: 'state_recovered', message: msg } });
    }
    const work = observeAll(listing.containers, data, options, exemptions, now);
    const listed = new Set(listing.containers.map((c) => c.id));
    for (const id of Object.keys(data.containers)) {
      // Entries of removed containers go; a filtered run cannot tell, except for those it saw vanish.
      if ((listing.complete && !listed.has(id)) || listing.vanished.includes(id)) delete data.containers[id];
    }
    return work;
  };

  let work: Work[];
  if (dryRun) {
    const { data, context } = await state.read();
    work = observe(structuredClone(data ?? emptyState()), context);
  } else {
    work = await state.update(observe);
  }

  const handle = async (item: Work): Promise<void> => {
    if (dryRun) {
      if (isAction(item.report.action)) item.report.outcome = 'dry_run';
    } else {
      try {
        failures += await act(item, state, options, now);
      } catch (err) {
        failures++;
        item.report.outcome = 'failed';
        item.report.detail = err instanceof Error ? err.message : String(err);
      }
    }
    if (item.report.outcome === 'failed') log(`error: ${item.container.name}: ${item.report.action}: ${item.report.detail}`);
    else if (isAction(item.report.action) || options.verbose) log(describeContainer(item.report, dryRun));
  };
  // Stops wait out their grace (up to minutes each): several at once keep a run within its cron interval.
  let next = 0;
  const worker = async () => {
    while (next < work.length) await handle(work[next++] as Work);
  };
  await Promise.all(Array.from({ length: Math.min(ACTION_CONCURRENCY, Math.max(1, work.length)) }, worker));

  const reports = work.map((w) => w.report);
  const counts = countOf(reports, listing.vanished.length);
  const report: RunReport = {
    job: 'runtime',
    dry_run: dryRun,
    started_at: new Date(now).toISOString(),
    finished_at: new Date(clock()).toISOString(),
    containers: reports,
    counts,
    failures,
    warnings,
  };
  if (!dryRun) {
    logEvent('maintenance.run_summary', {
      source: JOB,
      details: { job: 'runtime', counts, dry_run: false, duration_ms: clock() - now, failures },
    });
  }
  return report;
}

function isAction(action: Action): boolean {
  return action === 'first_warning' || action === 'final_warning' || action === 'stop' || action === 'exempt_notice';
}

function observeAll(
  containers: ClassifiedContainer[],
  data: RuntimeState,
  options: EnforceOptions,
  exemptions: ExemptionList,
  now: number,
): Work[] {
  const work: Work[] = [];
  for (const c of containers) {
    const base = { id: c.id, name: c.name, user: c.owner, type: c.type, status: c.status, gpu: c.gpu.hasGpu };
    if (c.exemptLabel) {
      work.push(skipped(c, { ...base, action: 'skip', reason: `${c.exemptLabel}=true` }));
      continue;
    }
    if (!c.gpu.hasGpu && !options.includeCpuOnly) {
      work.push(skipped(c, { ...base, action: 'skip', reason: 'no GPU (use --include-cpu-only to limit these too)' }));
      continue;
    }
    const previous = data.containers[c.id];
    const running = RUNNING.has(c.status) || c.status === 'restarting';
    const { ledger, restarted } = observeLap(previous?.ledger, { startedAt: c.startedAt, finishedAt: c.finishedAt, running }, now);
    if (!ledger) {
      work.push(skipped(c, { ...base, action: 'not_running', reason: 'never started' }));
      continue;
    }
    const policy = resolveRuntimePolicy(options.config, exemptions, c.owner, c.type, now);
    // A start after a stop that a run saw (or this job made) re-arms the warnings: the new lap gets
    // its own, and a container past its limit a fresh final warning with the full lead. A restart
    // no run saw (a crash loop, a quick `docker restart`) keeps them, so a container that keeps
    // restarting is neither warned every run nor kept alive by a lead time that starts again.
    // since_start counts from zero after any restart, so there every restart re-arms.
    const rearm = restarted && (policy.mode === 'since_start' || previous?.ledger.lap.end !== null);
    const record: ContainerRecord = {
      ...(previous ?? { firstSeen: now, warnings: {} }),
      name: c.name,
      user: c.owner,
      type: c.type,
      lastSeen: now,
      ledger,
      warnings: rearm || !previous ? {} : previous.warnings,
    };
    data.containers[c.id] = record;

    const ran = runtimeMs(ledger, policy.mode, now);
    const judged = {
      ...base,
      mode: policy.mode,
      runtime_s: Math.round(ran / 1000),
      max_runtime_h: policy.maxRuntimeH,
      max_runtime_source: policy.maxRuntimeSource,
    };
    if (!RUNNING.has(c.status)) {
      work.push({ container: c, report: { ...judged, action: 'not_running', reason: c.status } });
      continue;
    }
    const { decision, marks } = decide({
      now,
      runtimeMs: ran,
      maxRuntimeH: policy.maxRuntimeH,
      leadMs: policy.leadMs,
      exemption: policy.exemption,
      exemptNotified: record.exemptNotifiedAt !== undefined,
      marks: record.warnings,
      keepWarnings: restarted && !rearm,
    });
    record.warnings = marks;
    work.push({ container: c, report: { ...judged, ...reportOf(decision) }, judged: { record, policy, runtimeMs: ran, decision } });
  }
  return work;
}

function skipped(container: ClassifiedContainer, report: ContainerReport): Work {
  return { container, report };
}

function reportOf(d: Decision): Pick<ContainerReport, 'action' | 'reason' | 'stop_at'> {
  switch (d.kind) {
    case 'no_limit':
      return { action: 'no_limit', reason: 'max_runtime_h is null (no limit)', stop_at: null };
    case 'ok':
      return { action: 'ok', reason: 'under the warning points', stop_at: new Date(d.stopAt).toISOString() };
    case 'warn':
      return {
        action: d.level === 'first' ? 'first_warning' : 'final_warning',
        reason: `${d.level === 'first' ? 75 : 90}% of the maximum runtime (or the lead time) reached`,
        stop_at: new Date(d.stopAt).toISOString(),
      };
    case 'wait':
      return { action: 'wait', reason: 'warned; stop not due yet', stop_at: new Date(d.stopAt).toISOString() };
    case 'stop':
      return { action: 'stop', reason: 'maximum runtime reached and the final warning was out for the lead time', stop_at: null };
    case 'exempt':
      return {
        action: d.notify ? 'exempt_notice' : 'exempt',
        reason: `owner exempt from max_runtime_h (${d.reason})${d.limitReached ? '; limit passed' : ''}`,
        stop_at: null,
      };
  }
}

function factsOf(c: ClassifiedContainer, item: Judged, now: number): NoticeFacts {
  return {
    container: c.name,
    id: c.id,
    type: c.type,
    runtimeMs: item.runtimeMs,
    maxRuntimeH: item.policy.maxRuntimeH ?? 0,
    limitSource: item.policy.maxRuntimeSource,
    mode: item.policy.mode,
    now,
  };
}

async function patchRecord(state: StateFile<RuntimeState>, id: string, fn: (r: ContainerRecord) => void): Promise<void> {
  await state.update((data) => {
    const record = data.containers[id];
    if (record) fn(record);
  });
}

/** Carries out one decision; returns the number of failures (0 or 1). */
async function act(work: Work, state: StateFile<RuntimeState>, options: EnforceOptions, now: number): Promise<number> {
  const { container: c, report, judged: item } = work;
  if (!item) return 0;
  const { decision } = item;
  const owner = c.owner;
  const ref = { container: c.name, container_id: c.id, container_type: c.type };

  if (decision.kind === 'warn') {
    const stopAt = new Date(decision.stopAt).toISOString();
    const delivered = owner ? sendNotice(owner, warningNotice(factsOf(c, item, now), decision.level, decision.stopAt)) : null;
    if (delivered && undelivered(delivered)) {
      // Not marked as sent: the next run tries again, and the stop waits for a delivered final warning.
      report.outcome = 'failed';
      report.detail = undeliveredText(delivered);
      return 1;
    }
    logEvent('maintenance.runtime_warning', {
      user: owner,
      source: JOB,
      details: {
        ...ref,
        level: decision.level,
        runtime_s: Math.round(item.runtimeMs / 1000),
        max_runtime_h: item.policy.maxRuntimeH ?? 0,
        stop_at: stopAt,
      },
    });
    await patchRecord(state, c.id, (r) => {
      r.warnings = {
        firstAt: r.warnings.firstAt ?? now,
        finalAt: decision.level === 'final' ? now : (r.warnings.finalAt ?? null),
        dueAt: decision.dueAt,
      };
    });
    report.outcome = 'done';
    if (!owner) report.detail = 'no owner to notify: recorded as an event only';
    return 0;
  }

  if (decision.kind === 'exempt' && decision.notify) {
    const expires = decision.expires === null ? null : new Date(decision.expires).toISOString();
    const delivered = owner
      ? sendNotice(owner, exemptNotice(factsOf(c, item, now), decision.reason, decision.expires, item.policy.leadMs))
      : null;
    if (delivered && undelivered(delivered)) {
      report.outcome = 'failed';
      report.detail = undeliveredText(delivered);
      return 1;
    }
    logEvent('maintenance.runtime_exempt', { user: owner, source: JOB, details: { ...ref, reason: decision.reason, expires } });
    await patchRecord(state, c.id, (r) => {
      r.exemptNotifiedAt = now;
    });
    report.outcome = 'done';
    return 0;
  }

  if (decision.kind === 'stop') {
    options.progress?.(`stopping ${c.name} (SIGTERM, SIGKILL after ${item.policy.graceS ?? 'Docker’s default'} s)…`);
    const result = await stopContainerChecked(options.docker.getContainer(c.id), { id: c.id, startedAt: c.startedAt }, item.policy.graceS);
    if (result.outcome === 'skipped') {
      report.outcome = 'skipped';
      report.detail = result.message;
      return 0;
    }
    if (result.outcome === 'failed') {
      report.outcome = 'failed';
      report.detail = result.message;
      logEvent('maintenance.warning', {
        user: owner,
        source: JOB,
        details: { job: 'runtime', ...ref, code: 'stop_failed', message: result.message },
      });
      return 1;
    }
    const stoppedAt = result.finishedAt ?? (options.clock ?? Date.now)();
    const ran = item.runtimeMs + Math.max(0, stoppedAt - now);
    const maxH = item.policy.maxRuntimeH;
    logEvent('maintenance.runtime_kill', {
      user: owner,
      source: JOB,
      details: { ...ref, runtime_s: Math.round(ran / 1000), runtime: formatDuration(ran), max_runtime: maxH, max_runtime_h: maxH },
    });
    const delivered = owner ? sendNotice(owner, stoppedNotice({ ...factsOf(c, item, stoppedAt), runtimeMs: ran }, result.graceS)) : null;
    await patchRecord(state, c.id, (r) => {
      r.ledger = closeLap(r.ledger, stoppedAt);
      r.warnings = {};
      r.stoppedAt = stoppedAt;
    });
    report.outcome = 'done';
    report.runtime_s = Math.round(ran / 1000);
    report.detail = `stopped (grace ${result.graceS ?? 'docker default'}s, exit code ${result.exitCode ?? '?'})`;
    if (delivered && undelivered(delivered)) {
      // The stop stands (and its event); the failed notice makes the run exit 1 for the admin to see.
      report.detail += `; ${undeliveredText(delivered)}`;
      return 1;
    }
    return 0;
  }
  return 0;
}

function undelivered(n: NoticeResult): boolean {
  return !n.inbox && n.terminals === 0;
}

function undeliveredText(n: NoticeResult): string {
  return `notice not delivered (no terminal, inbox ${n.inboxFile} not writable)`;
}

function countOf(reports: ContainerReport[], vanished: number): Record<string, number> {
  const counts: Record<string, number> = {
    considered: reports.length,
    first_warnings: 0,
    final_warnings: 0,
    stopped: 0,
    exempt_notices: 0,
    skipped_changed: 0,
    failed: 0,
    vanished,
  };
  const add = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  for (const r of reports) {
    if (r.outcome === 'failed') add('failed');
    else if (r.outcome === 'skipped') add('skipped_changed');
    else if (r.outcome === 'done' || r.outcome === 'dry_run') {
      if (r.action === 'first_warning') add('first_warnings');
      if (r.action === 'final_warning') add('final_warnings');
      if (r.action === 'stop') add('stopped');
      if (r.action === 'exempt_notice') add('exempt_notices');
    }
  }
  return counts;
}
