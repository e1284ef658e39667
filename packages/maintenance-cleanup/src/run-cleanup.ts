import { logEvent, readEvents } from '@ds01/events-core';
import { resolveUserLimits, type SiteConfig } from '@ds01/events-core/config';
import { type ClassifiedContainer, sendNotice } from '@ds01/events-core/jobs';
import { formatDuration } from '@ds01/events-core/time';
import type Docker from 'dockerode';
import {
  type ReleasedEntry,
  type ReleaseOutput,
  type ReleaseStaleOutput,
  releaseSchema,
  releaseStaleSchema,
  type StatusOutput,
  statusSchema,
} from './allocator-schemas.js';
import { cleanupStateFile, markSeen } from './cleanup-state.js';
import { type Decision, decideContainersPhase, decideGpuPhase, type Phase } from './decide-removal.js';
import { messageOf } from './docker-errors.js';
import { findOrphanAllocations, findOrphanProcesses, type OrphanAllocation, type OrphanProcess } from './find-orphans.js';
import { existingContainerIds, listContainers } from './list-containers.js';
import { removeIfStillDue } from './remove-container.js';
import { runAllocator } from './run-allocator.js';
import type { Selection } from './select-containers.js';
import { pauseAfterListingForTests } from './test-pause.js';

export const JOB = 'cleanup';
export const SOURCE = 'ds01-cleanup';

export type Command = 'gpu' | 'containers' | 'all';

export interface CleanupOptions extends Selection {
  command: Command;
  dryRun: boolean;
}

export interface ContainerReport {
  phase: Phase;
  container: string;
  container_id: string;
  user: string | null;
  type: string;
  status: string;
  gpus: string[];
  decision: 'remove' | 'keep' | 'skip';
  /** What happened to a container due for removal. */
  outcome?: 'removed' | 'would_remove' | 'changed' | 'vanished' | 'failed';
  reason: string;
  detail: string;
  hold_key?: string;
  hold_s?: number | null;
  stopped_for_s?: number;
  age_s?: number;
  remove_at?: string;
  gpus_released?: string[];
}

export interface GpuReleaseReport {
  container: string | null;
  container_id: string | null;
  user: string | null;
  gpus: string[];
  reason: string;
}

export interface CleanupReport {
  job: typeof JOB;
  command: Command;
  dry_run: boolean;
  started_at: string;
  finished_at: string;
  containers: ContainerReport[];
  gpu_releases: GpuReleaseReport[];
  orphan_processes: (Omit<OrphanProcess, 'key'> & { new: boolean })[];
  orphan_allocations: (OrphanAllocation & { new: boolean })[];
  warnings: string[];
  counts: Record<string, number>;
  failures: number;
}

const seconds = (ms: number | undefined | null) => (ms === undefined || ms === null ? undefined : Math.round(ms / 1000));

function entryFor(c: ClassifiedContainer, phase: Phase, d: Decision): ContainerReport {
  const r: ContainerReport = {
    phase,
    container: c.name,
    container_id: c.id,
    user: c.owner,
    type: c.type,
    status: c.status,
    gpus: c.gpu.all ? ['all'] : c.gpu.devices,
    decision: d.action,
    reason: d.reason,
    detail: d.detail,
  };
  if (d.holdKey) r.hold_key = d.holdKey;
  if (d.holdMs !== undefined) r.hold_s = d.holdMs === null ? null : d.holdMs / 1000;
  if (d.stoppedForMs !== undefined) r.stopped_for_s = seconds(d.stoppedForMs) as number;
  if (d.ageMs !== undefined) r.age_s = seconds(d.ageMs) as number;
  if (d.removeAt !== undefined) r.remove_at = new Date(d.removeAt).toISOString();
  return r;
}

/** Shared between the phases of one run. */
class Run {
  readonly report: CleanupReport;
  readonly released: (ReleasedEntry & { reason: string })[] = [];
  private readonly startedMs = Date.now();

  constructor(
    readonly docker: Docker,
    readonly config: SiteConfig,
    readonly opts: CleanupOptions,
    readonly log: LogFn,
  ) {
    this.report = {
      job: JOB,
      command: opts.command,
      dry_run: opts.dryRun,
      started_at: new Date(this.startedMs).toISOString(),
      finished_at: '',
      containers: [],
      gpu_releases: [],
      orphan_processes: [],
      orphan_allocations: [],
      warnings: [],
      counts: {},
      failures: 0,
    };
  }

  get started(): number {
    return this.startedMs;
  }

  warn(code: string, message: string, c?: ClassifiedContainer): void {
    this.report.warnings.push(message);
    this.log(`warning: ${message}`);
    if (this.opts.dryRun) return;
    logEvent('maintenance.warning', {
      user: c?.owner ?? null,
      source: SOURCE,
      details: { job: JOB, code, message, ...(c ? { container: c.name, container_id: c.id, container_type: c.type } : {}) },
    });
  }

  /** Judges each container for one phase and removes the ones due; returns the ids removed (or, dry, that would be). */
  async phase(phase: Phase, containers: ClassifiedContainer[]): Promise<Set<string>> {
    const removed = new Set<string>();
    const decide = (c: ClassifiedContainer, now: number) =>
      phase === 'gpu' ? decideGpuPhase(c, this.config, now) : decideContainersPhase(c, this.config, now);
    for (const c of containers) {
      if (c.exemptLabel) {
        if (phase === 'containers' || (c.gpu.hasGpu && (c.status === 'exited' || c.status === 'dead'))) {
          this.report.containers.push(
            entryFor(c, phase, { action: 'keep', reason: 'protected', detail: `${c.exemptLabel}=true: never touched` }),
          );
        }
        continue;
      }
      let decision: Decision | null;
      try {
        decision = decide(c, Date.now());
      } catch (err) {
        this.report.failures++;
        this.warn('decision_failed', `${c.name}: could not judge it: ${messageOf(err)}`, c);
        continue;
      }
      if (!decision) continue;
      const entry = entryFor(c, phase, decision);
      this.report.containers.push(entry);
      if (decision.warning) this.warn('no_stop_time', decision.warning, c);
      if (decision.action !== 'remove') {
        this.log(`  keep ${c.name}: ${decision.detail}`, 'verbose');
        continue;
      }
      if (this.opts.dryRun) {
        entry.outcome = 'would_remove';
        removed.add(c.id);
        this.log(`would remove ${c.name} (${c.owner ?? 'no owner'}): ${decision.reason}: ${decision.detail}`);
        continue;
      }
      await this.remove(c, entry, decide, removed);
    }
    return removed;
  }

  private async remove(
    c: ClassifiedContainer,
    entry: ContainerReport,
    decide: (c: ClassifiedContainer, now: number) => Decision | null,
    removed: Set<string>,
  ): Promise<void> {
    const volumes = resolveUserLimits(this.config, c.owner ?? '').policies.cleanup_remove_anonymous_volumes === true;
    let result: Awaited<ReturnType<typeof removeIfStillDue>>;
    try {
      result = await removeIfStillDue(this.docker, c, decide, volumes, SOURCE);
    } catch (err) {
      result = { outcome: 'failed', detail: messageOf(err) };
    }
    if (result.outcome !== 'removed') {
      entry.outcome = result.outcome;
      entry.detail = `${entry.detail}; ${result.detail}`;
      if (result.outcome === 'failed') {
        this.report.failures++;
        this.warn('remove_failed', `${c.name}: ${result.detail}`, c);
      } else this.log(`skipped ${c.name}: ${result.detail}`);
      return;
    }
    removed.add(c.id);
    entry.outcome = 'removed';
    const d = result.decision;
    entry.detail = d.detail;
    if (d.stoppedForMs !== undefined) entry.stopped_for_s = seconds(d.stoppedForMs) as number;
    if (d.ageMs !== undefined) entry.age_s = seconds(d.ageMs) as number;
    entry.gpus_released = c.gpu.hasGpu ? await this.releaseGpus(c) : [];
    logEvent('container.remove', {
      user: c.owner,
      source: SOURCE,
      details: {
        container: c.name,
        container_id: c.id,
        reason: d.reason,
        container_type: c.type,
        ...(d.stoppedForMs !== undefined ? { stopped_for_s: seconds(d.stoppedForMs) as number } : {}),
        ...(d.ageMs !== undefined ? { age_s: seconds(d.ageMs) as number } : {}),
        gpus_released: entry.gpus_released,
        removed_by: SOURCE,
        ...(d.holdKey ? { hold_key: d.holdKey } : {}),
        ...(typeof d.holdMs === 'number' ? { hold_s: d.holdMs / 1000 } : {}),
      },
    });
    this.log(`removed ${c.name} (${c.owner ?? 'no owner'}): ${d.reason}: ${d.detail}`);
    if (c.owner) {
      const how =
        d.reason === 'created_never_started'
          ? `was created ${formatDuration(d.ageMs ?? 0)} ago and never started`
          : `had been stopped for ${formatDuration(d.stoppedForMs ?? 0)}`;
      sendNotice(c.owner, {
        job: SOURCE,
        severity: 'info',
        title: `Container ${c.name} was removed`,
        body: `Your container ${c.name} ${how}, past the site limit (${d.holdKey}). Its files outside volumes are gone; named volumes and bind mounts are kept. Create a new container to continue.`,
        container: c.name,
      });
    }
  }

  /** Tells the allocator a GPU container is gone; returns the UUIDs it released. */
  private async releaseGpus(c: ClassifiedContainer): Promise<string[]> {
    const r = await runAllocator<ReleaseOutput>(['release', '--container', c.id, '--reason', 'removed'], releaseSchema);
    if (!r.ok) {
      this.warn('allocator_failed', `${c.name} was removed but its GPUs were not released: ${r.message}`, c);
      return [];
    }
    const uuids: string[] = [];
    for (const e of r.data.released) {
      this.released.push({
        ...e,
        reason: 'removed',
        container: e.container ?? c.name,
        container_id: e.container_id ?? c.id,
        user: e.user ?? c.owner,
      });
      uuids.push(...e.gpus.map((g) => g.uuid));
    }
    return uuids;
  }

  /** `ds01-gpu release-stale`: expired holds and reservations. */
  async releaseStale(): Promise<Set<string>> {
    const args = ['release-stale', ...(this.opts.dryRun ? ['--dry-run'] : [])];
    const r = await runAllocator<ReleaseStaleOutput>(args, releaseStaleSchema);
    const names = new Set<string>();
    if (!r.ok) {
      this.report.failures++;
      this.warn('allocator_failed', `releasing stale GPU allocations failed: ${r.message}`);
      return names;
    }
    for (const e of r.data.released) {
      this.released.push(e);
      for (const n of [e.container, e.container_id]) if (n) names.add(n);
      this.log(
        `${this.opts.dryRun ? 'would release' : 'released'} GPUs ${e.gpus.map((g) => g.slot ?? g.uuid).join(',')} of ${e.container ?? e.container_id ?? '?'} (${e.user ?? 'no owner'}): ${e.reason}`,
      );
    }
    return names;
  }

  /** Every release is a `gpu.release` event: the allocator writes its own; any it did not are written here. */
  async ensureReleaseEvents(): Promise<void> {
    for (const e of this.released) {
      this.report.gpu_releases.push({
        container: e.container ?? null,
        container_id: e.container_id ?? null,
        user: e.user ?? null,
        gpus: e.gpus.map((g) => g.uuid),
        reason: e.reason,
      });
    }
    if (this.opts.dryRun || this.released.length === 0) return;
    const logged: { container?: string; container_id?: string; reason?: string }[] = [];
    try {
      for await (const { event } of readEvents({ since: this.startedMs - 1000, anyOf: ['gpu.release'], liveOnly: true })) {
        if (event.event_type === 'gpu.release') logged.push((event.details ?? {}) as (typeof logged)[number]);
      }
    } catch {
      /* an unreadable log: write ours; a duplicate beats a lost release */
    }
    for (const e of this.released) {
      const seen = logged.some(
        (l) =>
          l.reason === e.reason && ((e.container_id && l.container_id === e.container_id) || (e.container && l.container === e.container)),
      );
      if (seen) continue;
      const reason =
        (['removed', 'hold_expired', 'reservation_expired', 'revoked', 'manual'] as const).find((x) => x === e.reason) ?? 'manual';
      logEvent('gpu.release', {
        user: e.user ?? null,
        source: SOURCE,
        details: {
          gpus: e.gpus.map((g) => ({
            uuid: g.uuid,
            ...(g.slot !== undefined ? { slot: g.slot } : {}),
            ...(g.weight !== undefined ? { weight: g.weight } : {}),
          })),
          reason,
          ...(e.container ? { container: e.container } : {}),
          ...(e.container_id ? { container_id: e.container_id } : {}),
          ...(reason !== e.reason ? { note: `allocator reason ${e.reason}` } : {}),
        },
      });
    }
  }

  /** Orphan GPU processes and allocations: reported (new ones as events), never killed or released. */
  async orphans(wouldRelease: Set<string>): Promise<void> {
    const scan = await findOrphanProcesses(this.docker);
    if (scan.error) this.warn('nvidia_smi_failed', `GPU processes not checked: ${scan.error}`);
    else if (scan.unavailable) this.log(`GPU processes not checked: ${scan.unavailable}`, 'verbose');

    let allocations: OrphanAllocation[] = [];
    const status = await runAllocator<StatusOutput>(['status'], statusSchema);
    if (!status.ok) this.warn('allocator_failed', `allocations not checked: ${status.message}`);
    else allocations = findOrphanAllocations(status.data.allocations, await existingContainerIds(this.docker), wouldRelease);

    const now = new Date().toISOString();
    let freshProcs = new Set(scan.orphans.map((o) => o.key));
    let freshAllocs = new Set(allocations.map((a) => a.id));
    if (!this.opts.dryRun) {
      try {
        await cleanupStateFile().update((data, ctx) => {
          if (ctx.recovered) this.warn('state_recovered', `cleanup state was unreadable (${ctx.recovered.error}); rebuilt`);
          freshProcs = markSeen(data.orphan_processes, [...freshProcs], now);
          freshAllocs = markSeen(data.orphan_allocations, [...freshAllocs], now);
        });
      } catch (err) {
        this.warn('state_failed', `cleanup state not updated (${messageOf(err)}); every orphan is reported as new`);
      }
    }
    for (const o of scan.orphans) {
      const { key, ...rest } = o;
      const isNew = freshProcs.has(key);
      this.report.orphan_processes.push({ ...rest, new: isNew });
      const where =
        o.reason === 'no_container'
          ? 'in no container'
          : o.reason === 'container_gone'
            ? `in removed container ${o.containerId?.slice(0, 12)}`
            : `in ${o.container}, which was not given that GPU`;
      this.log(`orphan GPU process ${o.pid} (${o.processName}, user ${o.user ?? '?'}) on ${o.gpuUuid}, ${where}: reported, left running`);
      if (!isNew || this.opts.dryRun) continue;
      logEvent('gpu.orphan_process', {
        user: o.user,
        source: SOURCE,
        details: {
          pid: o.pid,
          process_name: o.processName,
          gpu_uuid: o.gpuUuid,
          reason: o.reason,
          ...(o.usedMemoryMib !== undefined ? { used_memory_mib: o.usedMemoryMib } : {}),
          ...(o.container ? { container: o.container } : {}),
          ...(o.containerId ? { container_id: o.containerId } : {}),
        },
      });
    }
    for (const a of allocations) {
      const isNew = freshAllocs.has(a.id);
      this.report.orphan_allocations.push({ ...a, new: isNew });
      this.log(
        `orphan GPU allocation ${a.id} (${a.user ?? '?'}, ${a.state}) for missing container ${a.container ?? a.containerId}: reported`,
      );
      if (!isNew || this.opts.dryRun) continue;
      logEvent('gpu.orphan_allocation', {
        user: a.user,
        source: SOURCE,
        details: {
          gpus: a.gpus,
          allocation: a.id,
          state: a.state,
          ...(a.container ? { container: a.container } : {}),
          ...(a.containerId ? { container_id: a.containerId } : {}),
        },
      });
    }
  }

  finish(): CleanupReport {
    const r = this.report;
    const count = (f: (c: ContainerReport) => boolean) => r.containers.filter(f).length;
    r.counts = {
      considered: new Set(r.containers.map((c) => c.container_id)).size,
      removed: count((c) => c.outcome === 'removed'),
      would_remove: count((c) => c.outcome === 'would_remove'),
      kept: count((c) => c.decision === 'keep'),
      changed: count((c) => c.outcome === 'changed' || c.outcome === 'vanished'),
      failed: count((c) => c.outcome === 'failed'),
      gpu_released: r.gpu_releases.length,
      orphan_processes: r.orphan_processes.length,
      orphan_allocations: r.orphan_allocations.length,
      warnings: r.warnings.length,
    };
    r.finished_at = new Date().toISOString();
    logEvent('maintenance.run_summary', {
      source: SOURCE,
      details: {
        job: JOB,
        counts: { command: r.command, ...r.counts },
        dry_run: r.dry_run,
        duration_ms: Date.now() - this.startedMs,
        failures: r.failures,
      },
    });
    return r;
  }
}

export type LogFn = (line: string, level?: 'verbose') => void;

/**
 * One cleanup run. `gpu`: remove stopped GPU containers past their GPU hold,
 * release stale allocations, report orphans. `containers`: remove created,
 * exited and dead containers past their limits. `all`: both, from one listing.
 */
export async function runCleanup(docker: Docker, config: SiteConfig, opts: CleanupOptions, log: LogFn): Promise<CleanupReport> {
  const run = new Run(docker, config, opts, log);
  const listing = await listContainers(docker, opts);
  for (const e of listing.errors) {
    run.report.failures++;
    run.warn('inspect_failed', `container ${e.id.slice(0, 12)} could not be inspected: ${e.message}`);
  }
  await pauseAfterListingForTests(listing.containers.map((c) => c.id));
  let remaining = listing.containers;
  if (opts.command !== 'containers') {
    const removed = await run.phase('gpu', remaining);
    remaining = remaining.filter((c) => !removed.has(c.id));
  }
  if (opts.command !== 'gpu') await run.phase('containers', remaining);
  let wouldRelease = new Set<string>();
  if (opts.command !== 'containers') wouldRelease = await run.releaseStale();
  await run.ensureReleaseEvents();
  if (opts.command !== 'containers') {
    try {
      await run.orphans(wouldRelease);
    } catch (err) {
      run.warn('orphan_check_failed', `orphans not checked: ${messageOf(err)}`);
    }
  }
  return run.finish();
}
