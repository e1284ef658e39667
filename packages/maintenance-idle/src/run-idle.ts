import { logEvent } from '@ds01/events-core';
import {
  checkExemption,
  type ExemptionDecision,
  hoursToMs,
  loadExemptions,
  loadSiteConfig,
  minutesToMs,
  resolveLifecycleLimit,
  resolveUserLimits,
  type SiteConfig,
} from '@ds01/events-core/config';
import { type ClassifiedContainer, listClassifiedContainers, sendNotice, stopContainerChecked } from '@ds01/events-core/jobs';
import { formatDuration } from '@ds01/events-core/time';
import Docker from 'dockerode';
import { decideIdle, type IdleDecision, type IdleRules, type Thresholds } from './decide.js';
import { type Demand, measureDemand } from './high-demand.js';
import { type ContainerEntry, emptyState, type IdleState, idleStateFile, type Sample } from './idle-state.js';
import { mapPool } from './map-pool.js';
import { exemptText, keepAliveText, type NoticeFacts, stoppedText, utc, warningText } from './notices.js';
import { readCgroupCpuNs } from './sample/read-cpu.js';
import { countRunningExecs } from './sample/read-exec-sessions.js';
import { type GpuActivity, readGpuActivity } from './sample/read-gpu-activity.js';
import { readKeepAliveMtime } from './sample/read-keep-alive.js';
import { readNetworkBytes } from './sample/read-network.js';
import { readStatsCounters } from './sample/read-stats.js';

export const JOB = 'ds01-idle';

export interface RunOptions {
  dryRun: boolean;
  /** Only containers whose name matches (Docker's name filter: a regular expression searched in the name). */
  nameFilter?: string;
  /** Progress for waits longer than a second (stderr). */
  progress: (line: string) => void;
  docker?: Docker;
}

export type ContainerOutcome =
  | 'skipped'
  | 'baseline'
  | 'active'
  | 'idle'
  | 'no_timeout'
  | 'warned_first'
  | 'warned_final'
  | 'exempt_notice'
  | 'stopped'
  | 'would_stop'
  | 'stop_skipped'
  | 'failed';

export interface ContainerReport {
  id: string;
  name: string;
  user: string | null;
  type: string;
  gpu: boolean;
  outcome: ContainerOutcome;
  reason: string;
  idle_s?: number;
  timeout_s?: number | null;
  stop_at?: string | null;
  first_warning_at?: string | null;
  final_warning_at?: string | null;
  keep_alive_until?: string | null;
  exempt?: string | null;
  sample?: Sample;
}

export interface RunReport {
  job: typeof JOB;
  dry_run: boolean;
  started_at: string;
  duration_ms: number;
  demand: (Demand & { high: boolean; threshold: number }) | null;
  gpu_error: string | null;
  counts: Record<string, number>;
  failures: number;
  problems: string[];
  containers: ContainerReport[];
}

interface Resolved {
  thresholds: Thresholds;
  timeoutMs: number | null;
  baseTimeoutMs: number | null;
  graceMs: number;
  leadMs: number;
  keepAliveMaxMs: number | null;
  cpuOnly: boolean;
  highDemandThreshold: number;
  highDemandReduction: number;
  sigtermGraceS: number | null;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function nullableNum(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Limits and policies for one owner and container type, resolved through events-core (user override > group > type > defaults). */
function resolveRules(config: SiteConfig, owner: string | null, type: string): Resolved {
  const user = owner ?? 'unknown';
  const p = resolveUserLimits(config, user).policies;
  const timeout = resolveLifecycleLimit(config, user, type, 'idle_timeout_h').value;
  return {
    thresholds: { gpu: num(p.gpu_idle_threshold, 5), cpu: num(p.cpu_idle_threshold, 2), network: num(p.network_idle_threshold, 1_048_576) },
    baseTimeoutMs: timeout === null ? null : hoursToMs(timeout),
    timeoutMs: timeout === null ? null : hoursToMs(timeout),
    graceMs: minutesToMs(num(p.grace_period_m, 0)),
    leadMs: minutesToMs(num(p.warning_lead_m, 0)),
    keepAliveMaxMs: nullableNum(p.keepalive_max_duration_h) === null ? null : hoursToMs(p.keepalive_max_duration_h as number),
    cpuOnly: p.idle_cpu_only_containers === true,
    highDemandThreshold: num(p.high_demand_threshold, 0.8),
    highDemandReduction: num(p.high_demand_idle_reduction, 0.5),
    sigtermGraceS: resolveLifecycleLimit(config, user, type, 'sigterm_grace_s').value,
  };
}

interface Candidate {
  c: ClassifiedContainer;
  rules: Resolved;
  exemption: ExemptionDecision;
  cpuNs: number | null;
  netBytes: number | null;
  execs: number;
  gpuProcesses: number;
  gpuUtil: number | null;
  keepAliveMtime: number | null;
  highDemand: boolean;
}

/** The highest utilisation among GPUs only this container uses (a shared GPU's load says nothing about one of its users). */
function ownGpuUtil(c: ClassifiedContainer, gpu: GpuActivity, users: Map<string, number>): number | null {
  const uuids = c.gpu.all ? [...gpu.utilisation.keys()] : c.gpu.devices.map((d) => gpu.uuidOfIndex.get(d) ?? d);
  let best: number | null = null;
  for (const uuid of uuids) {
    if ((users.get(uuid) ?? 0) > 1) continue;
    const u = gpu.utilisation.get(uuid);
    if (u !== undefined && u !== null) best = Math.max(best ?? 0, u);
  }
  return best;
}

function countGpuUsers(cands: ClassifiedContainer[], gpu: GpuActivity): Map<string, number> {
  const users = new Map<string, number>();
  for (const c of cands) {
    const uuids = c.gpu.all ? [...gpu.utilisation.keys()] : c.gpu.devices.map((d) => gpu.uuidOfIndex.get(d) ?? d);
    for (const u of new Set(uuids)) users.set(u, (users.get(u) ?? 0) + 1);
  }
  return users;
}

/** False when the container is gone or no longer running. */
async function stillRunning(docker: Docker, id: string): Promise<boolean> {
  try {
    const info = (await docker.getContainer(id).inspect()) as { State?: { Running?: boolean } };
    return info.State?.Running === true;
  } catch (err) {
    // Only a definite "no such container" drops state; other errors keep it for the next run.
    return (err as { statusCode?: number }).statusCode !== 404;
  }
}

/** The GPU use of every running container (for the demand fallback when the run is filtered by name). */
async function listGpuUses(docker: Docker): Promise<ClassifiedContainer['gpu'][]> {
  const all = await listClassifiedContainers(docker, { statuses: ['running', 'paused'], concurrency: 16 });
  return all.containers.filter((c) => c.gpu.hasGpu).map((c) => c.gpu);
}

function baseReport(c: ClassifiedContainer, outcome: ContainerOutcome, reason: string): ContainerReport {
  return { id: c.id, name: c.name, user: c.owner, type: c.type, gpu: c.gpu.hasGpu, outcome, reason };
}

/** One run of the idle job: list, sample, decide, warn, stop; returns the report (it never throws for one container's trouble). */
export async function runIdle(opts: RunOptions, config: SiteConfig = loadSiteConfig()): Promise<RunReport> {
  const startedAt = Date.now();
  const docker = opts.docker ?? new Docker();
  const problems: string[] = [...config.warnings];
  const exemptions = loadExemptions(config.dir);
  problems.push(...exemptions.problems);

  const listing = await listClassifiedContainers(docker, {
    statuses: ['running', 'paused'],
    ...(opts.nameFilter ? { nameFilter: opts.nameFilter } : {}),
    concurrency: 16,
  });
  for (const e of listing.errors) problems.push(`container ${e.id.slice(0, 12)}: ${e.message} (skipped)`);
  const running = listing.containers.filter((c) => c.status === 'running' || c.status === 'paused');
  const runningIds = new Set(running.map((c) => c.id));
  const reports: ContainerReport[] = [];
  const cache = new Map<string, Resolved>();
  const rulesOf = (c: ClassifiedContainer): Resolved => {
    const key = `${c.owner ?? ''}\u0000${c.type}`;
    let r = cache.get(key);
    if (!r) {
      r = resolveRules(config, c.owner, c.type);
      cache.set(key, r);
    }
    return r;
  };

  const candidates: ClassifiedContainer[] = [];
  for (const c of running) {
    if (c.exemptLabel) reports.push(baseReport(c, 'skipped', `${c.exemptLabel}=true: never touched`));
    else if (!c.gpu.hasGpu && !rulesOf(c).cpuOnly)
      reports.push(baseReport(c, 'skipped', 'no GPU (policies.idle_cpu_only_containers is off)'));
    else candidates.push(c);
  }

  const now = Date.now();
  const anyGpu = candidates.some((c) => c.gpu.hasGpu);
  const [gpu, demandRaw] = await Promise.all([
    anyGpu ? readGpuActivity(new Set(candidates.map((c) => c.id))) : Promise.resolve(null),
    // Without a name filter every GPU container is in the listing; with one the
    // fallback count would miss the others, so ask for them.
    anyGpu
      ? measureDemand(async () => (opts.nameFilter ? await listGpuUses(docker) : running.filter((c) => c.gpu.hasGpu).map((c) => c.gpu)))
      : Promise.resolve(null),
  ]);
  const globalThreshold = num(config.raw.policies?.high_demand_threshold, 0.8);
  const demand = demandRaw
    ? { ...demandRaw, threshold: globalThreshold, high: demandRaw.total > 0 && demandRaw.fraction >= globalThreshold }
    : null;
  const gpuUsers = gpu ? countGpuUsers(candidates, gpu) : new Map<string, number>();

  const sampled = await mapPool(candidates, 8, async (c): Promise<Candidate> => {
    const base = rulesOf(c);
    let cpuNs = readCgroupCpuNs(c.id, c.pid);
    let netBytes = readNetworkBytes(c.pid);
    if (cpuNs === null || netBytes === null) {
      const stats = await readStatsCounters(docker, c.id);
      cpuNs ??= stats.cpuNs;
      netBytes ??= stats.netBytes;
    }
    const execs = c.execIds.length > 0 ? await countRunningExecs(docker, c.execIds) : 0;
    const highDemand =
      c.gpu.hasGpu &&
      demandRaw !== null &&
      demandRaw.total > 0 &&
      demandRaw.fraction >= base.highDemandThreshold &&
      base.timeoutMs !== null;
    const rules = highDemand ? { ...base, timeoutMs: (base.timeoutMs as number) * base.highDemandReduction } : base;
    return {
      c,
      rules,
      exemption: c.owner ? checkExemption(exemptions, c.owner, 'idle_timeout_h', now) : { exempt: false },
      cpuNs,
      netBytes,
      execs,
      gpuProcesses: gpu?.processesByContainer.get(c.id)?.length ?? 0,
      gpuUtil: gpu && c.gpu.hasGpu ? ownGpuUtil(c, gpu, gpuUsers) : null,
      keepAliveMtime: readKeepAliveMtime(c.pid),
      highDemand,
    };
  });

  const counts: Record<string, number> = {
    running: running.length,
    considered: candidates.length,
    skipped: reports.length,
    active: 0,
    idle: 0,
    warned_first: 0,
    warned_final: 0,
    stopped: 0,
    exempt_notices: 0,
    keep_alive: 0,
  };
  let failures = 0;

  const judge = async (state: IdleState, write: boolean): Promise<void> => {
    const decisions: { cand: Candidate; d: IdleDecision }[] = [];
    for (const cand of sampled) {
      const { c } = cand;
      const rules: IdleRules = {
        thresholds: cand.rules.thresholds,
        timeoutMs: cand.rules.timeoutMs,
        graceMs: cand.rules.graceMs,
        leadMs: cand.rules.leadMs,
        keepAliveMaxMs: cand.rules.keepAliveMaxMs,
        exempt: cand.exemption.exempt,
      };
      const d = decideIdle(
        state.containers[c.id],
        {
          now,
          name: c.name,
          user: c.owner,
          startedAt: c.startedAt,
          cpuNs: cand.cpuNs,
          netBytes: cand.netBytes,
          gpuProcesses: cand.gpuProcesses,
          gpuUtil: cand.gpuUtil,
          execs: cand.execs,
          keepAliveMtime: cand.keepAliveMtime,
        },
        rules,
      );
      state.containers[c.id] = d.entry;
      decisions.push({ cand, d });
    }

    await mapPool(decisions, 8, async ({ cand, d }) => {
      const report = await act(cand, d, write);
      reports.push(report);
      if (report.outcome === 'stopped') delete state.containers[cand.c.id];
    });

    // Entries of containers that no longer run (stopped, removed, or replaced
    // under the same name) are dropped: a new container never inherits them.
    // A filtered listing does not show the others, so those are asked about.
    const unseen = Object.keys(state.containers).filter((id) => !runningIds.has(id));
    const gone = opts.nameFilter ? await mapPool(unseen, 8, async (id) => ((await stillRunning(docker, id)) ? null : id)) : unseen;
    for (const id of gone) if (id) delete state.containers[id];

    if (demand && write && demand.high !== state.high_demand) {
      logEvent('system.high_demand', {
        source: JOB,
        details: {
          active: demand.high,
          fraction: Math.round(demand.fraction * 1000) / 1000,
          threshold: demand.threshold,
          reduction: num(config.raw.policies?.high_demand_idle_reduction, 0.5),
          allocated: demand.allocated,
          total: demand.total,
          source: demand.source,
        },
      });
      state.high_demand = demand.high;
    }
  };

  const act = async (cand: Candidate, d: IdleDecision, write: boolean): Promise<ContainerReport> => {
    const { c } = cand;
    const user = c.owner;
    const report: ContainerReport = {
      ...baseReport(c, d.status, d.reason),
      idle_s: Math.round(d.idleMs / 1000),
      timeout_s: cand.rules.timeoutMs === null ? null : Math.round(cand.rules.timeoutMs / 1000),
      stop_at: d.plan && !cand.exemption.exempt ? new Date(d.plan.actAt).toISOString() : null,
      first_warning_at: d.plan ? new Date(d.plan.firstWarningAt).toISOString() : null,
      final_warning_at: d.plan ? new Date(d.plan.finalWarningAt).toISOString() : null,
      keep_alive_until: d.keepAliveUntil === null ? null : new Date(d.keepAliveUntil).toISOString(),
      exempt: cand.exemption.exempt ? (cand.exemption.reason ?? 'exempt') : null,
      sample: d.sample,
    };
    if (d.status === 'active') counts.active = (counts.active ?? 0) + 1;
    if (d.status === 'idle' || d.status === 'no_timeout') counts.idle = (counts.idle ?? 0) + 1;
    const facts: NoticeFacts = {
      name: c.name,
      idleMs: d.idleMs,
      timeoutMs: cand.rules.timeoutMs ?? 0,
      highDemand: cand.highDemand,
      keepAliveMaxMs: cand.rules.keepAliveMaxMs,
      gpus: c.gpu.all ? 'all' : c.gpu.devices.join(','),
    };
    const ref = { container: c.name, container_id: c.id, container_type: c.type };
    const notify = (severity: 'info' | 'warning' | 'final' | 'stopped', text: { title: string; body: string }) => {
      if (write && user) sendNotice(user, { job: JOB, severity, container: c.name, ...text });
    };

    if (d.keepAliveReport) {
      counts.keep_alive = (counts.keep_alive ?? 0) + 1;
      if (write) {
        notify('info', keepAliveText(facts, d.keepAliveReport.until));
        logEvent('maintenance.idle_keepalive', {
          user,
          source: JOB,
          details: { ...ref, until: new Date(d.keepAliveReport.until).toISOString() },
        });
      }
    }

    switch (d.action) {
      case 'first':
      case 'final': {
        const plan = d.plan as NonNullable<IdleDecision['plan']>;
        counts[`warned_${d.action}`] = (counts[`warned_${d.action}`] ?? 0) + 1;
        report.outcome = d.action === 'first' ? 'warned_first' : 'warned_final';
        if (write) {
          notify(d.action === 'first' ? 'warning' : 'final', warningText(d.action, facts, plan.actAt));
          logEvent('maintenance.idle_warning', {
            user,
            source: JOB,
            details: {
              ...ref,
              level: d.action,
              idle_s: Math.round(d.idleMs / 1000),
              timeout_s: Math.round(facts.timeoutMs / 1000),
              stop_at: new Date(plan.actAt).toISOString(),
            },
          });
        }
        return report;
      }
      case 'exempt_notice': {
        counts.exempt_notices = (counts.exempt_notices ?? 0) + 1;
        report.outcome = 'exempt_notice';
        if (write) {
          const reason = cand.exemption.reason ?? 'exempt';
          notify('info', exemptText(facts, reason));
          logEvent('maintenance.idle_exempt', {
            user,
            source: JOB,
            details: {
              ...ref,
              reason,
              expires: cand.exemption.expires == null ? null : new Date(cand.exemption.expires).toISOString(),
            },
          });
        }
        return report;
      }
      case 'stop': {
        if (!write) {
          report.outcome = 'would_stop';
          return report;
        }
        const grace = cand.rules.sigtermGraceS;
        if ((grace ?? 10) > 1) opts.progress(`${JOB}: stopping ${c.name} (up to ${grace ?? 10}s for it to exit)...`);
        const result = await stopContainerChecked(docker.getContainer(c.id), { id: c.id, startedAt: c.startedAt }, grace);
        if (result.outcome === 'stopped') {
          counts.stopped = (counts.stopped ?? 0) + 1;
          report.outcome = 'stopped';
          report.reason = `stopped after ${formatDuration(d.idleMs)} idle (timeout ${formatDuration(facts.timeoutMs)})`;
          logEvent('maintenance.idle_kill', {
            user,
            source: JOB,
            details: {
              ...ref,
              idle_s: Math.round(d.idleMs / 1000),
              idle_duration: formatDuration(d.idleMs),
              timeout_s: Math.round(facts.timeoutMs / 1000),
              samples: d.entry.samples,
            },
          });
          notify('stopped', stoppedText(facts));
        } else if (result.outcome === 'skipped') {
          report.outcome = 'stop_skipped';
          report.reason = `not stopped: ${result.message}`;
        } else {
          failures++;
          report.outcome = 'failed';
          report.reason = `stop failed: ${result.message}`;
        }
        return report;
      }
      default:
        return report;
    }
  };

  const stateFile = idleStateFile();
  if (opts.dryRun) {
    const { data, context } = await stateFile.read();
    if (context.recovered) problems.push(`state file unreadable (${context.recovered.error}); judged as empty`);
    await judge(structuredClone(data ?? emptyState()), false);
  } else {
    await stateFile.update(async (data, context) => {
      if (context.recovered) {
        problems.push(
          `state file ${stateFile.file} was unreadable (${context.recovered.error}); moved to ${context.recovered.movedTo || '?'}, starting afresh`,
        );
      }
      await judge(data, true);
    });
  }

  reports.sort((a, b) => a.name.localeCompare(b.name));
  const report: RunReport = {
    job: JOB,
    dry_run: opts.dryRun,
    started_at: new Date(startedAt).toISOString(),
    duration_ms: Date.now() - startedAt,
    demand,
    gpu_error: gpu?.error ?? null,
    counts,
    failures,
    problems,
    containers: reports,
  };
  logEvent('maintenance.run_summary', {
    source: JOB,
    details: { job: 'idle', counts, dry_run: opts.dryRun, duration_ms: report.duration_ms, failures },
  });
  return report;
}

/** The human lines for a report: every action, and with --verbose every container. */
export function describeReport(r: RunReport, verbose: boolean): string[] {
  const lines: string[] = [];
  for (const p of r.problems) lines.push(`warning: ${p}`);
  if (r.demand && (verbose || r.demand.high)) {
    lines.push(
      `GPU demand ${Math.round(r.demand.fraction * 100)}% (${r.demand.allocated}/${r.demand.total}, from ${r.demand.source})${r.demand.high ? `: high demand, idle timeouts shortened` : ''}`,
    );
  }
  if (r.gpu_error) lines.push(`warning: nvidia-smi: ${r.gpu_error} (GPU activity unknown; judged on CPU, network and exec sessions)`);
  const acting = new Set<ContainerOutcome>([
    'warned_first',
    'warned_final',
    'exempt_notice',
    'stopped',
    'would_stop',
    'stop_skipped',
    'failed',
  ]);
  for (const c of r.containers) {
    if (!verbose && !acting.has(c.outcome)) continue;
    const who = c.user ?? 'unknown owner';
    const times = c.idle_s !== undefined && c.outcome !== 'skipped' ? ` idle ${formatDuration((c.idle_s ?? 0) * 1000)}` : '';
    const stop =
      c.stop_at && (c.outcome === 'warned_first' || c.outcome === 'warned_final') ? `, stop at ${utc(Date.parse(c.stop_at))}` : '';
    const prefix = r.dry_run && acting.has(c.outcome) ? '[dry-run, nothing done] ' : '';
    lines.push(`${c.name} (${who}, ${c.type}): ${prefix}${c.outcome}:${times}${stop} - ${c.reason}`);
  }
  const k = r.counts;
  lines.push(
    `${r.dry_run ? '[dry-run] ' : ''}done in ${r.duration_ms} ms: ${k.running} running, ${k.considered} considered, ${k.active} active, ${k.idle} idle, ` +
      `${k.warned_first} first warnings, ${k.warned_final} final warnings, ${k.stopped} stopped, ${k.exempt_notices} exempt notices, ` +
      `${k.keep_alive} keep-alive, ${r.failures} failed`,
  );
  return lines;
}

export type { ContainerEntry };
