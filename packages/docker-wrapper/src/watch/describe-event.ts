import type { EventDetails } from '@ds01/events-core';
import { lookupUser } from '@ds01/events-core/identity';
import { type ContainerFacts, factsFromInspect, isManaged, readGpuUse, readOwner, readType } from '@ds01/events-core/labels';
import { parseDockerTime } from '@ds01/events-core/time';
import type { ContainerMemory } from './container-memory.js';
import type { DockerEvent } from './docker-event.js';
import { signalFromExitCode } from './signal-name.js';

/** The part of `GET /containers/{id}/json` the watcher reads. */
export interface InspectInfo {
  Id: string;
  Name?: string;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null; Image?: string } | null;
  HostConfig?: { DeviceRequests?: ContainerFacts['deviceRequests']; Runtime?: string; Memory?: number } | null;
  State?: { Running?: boolean; OOMKilled?: boolean; StartedAt?: string; FinishedAt?: string } | null;
}

/** Inspects a container; null when it no longer exists (or the daemon cannot say). */
export type Inspect = (id: string) => Promise<InspectInfo | null>;

export type WatchedType =
  | 'container.create'
  | 'container.start'
  | 'container.stop'
  | 'container.oom'
  | 'container.rename'
  | 'container.pause'
  | 'container.unpause'
  | 'container.remove';

export type PlannedEvent = {
  [T in WatchedType]: { type: T; user: string | undefined; details: EventDetails<T> };
}[WatchedType];

export interface Described {
  /** What to log; null when this Docker event is not logged (e.g. the wrapper already logged it). */
  event: PlannedEvent | null;
  /** A GPU container stopped or went away: its GPUs should be reconciled now. */
  reconcileGpus: boolean;
}

// Event attributes are the container's labels plus these keys of Docker's own.
const DOCKER_ATTRIBUTES = new Set(['image', 'name', 'exitCode', 'oldName', 'signal', 'execDuration']);

/** A die can be read from inspect only if the container's state still describes that run. */
const SAME_RUN_SLACK_MS = 5000;

function factsFromEvent(ev: DockerEvent): ContainerFacts {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(ev.attributes)) if (!DOCKER_ATTRIBUTES.has(k)) labels[k] = v;
  return { id: ev.id, name: ev.attributes.name ?? '', labels };
}

const uidNames = new Map<number, string | undefined>();
function uidToName(uid: number): string | undefined {
  if (!uidNames.has(uid)) {
    if (uidNames.size > 1000) uidNames.clear();
    uidNames.set(uid, lookupUser(uid)?.name);
  }
  return uidNames.get(uid);
}

function gpuRequestText(facts: ContainerFacts): { text: string; uuids: string[] } {
  const use = readGpuUse(facts);
  if (!use.hasGpu) return { text: 'none', uuids: [] };
  if (use.all) return { text: 'all', uuids: [] };
  if (use.devices.length > 0) {
    return { text: use.devices.join(','), uuids: use.devices.filter((d) => /^(GPU|MIG)-/i.test(d)) };
  }
  return { text: String(use.count ?? 'some'), uuids: [] };
}

function memoryText(bytes: number | undefined): string {
  if (!bytes || bytes <= 0) return 'unlimited';
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

function roundSeconds(ms: number): number {
  return Math.max(0, Math.round(ms) / 1000);
}

/**
 * Turns one Docker container event into the ds01 event it stands for. Owner
 * and type come from the labels Docker copies into the event; inspect is
 * asked only for what events do not carry (GPU requests, OOM, run time).
 */
export async function describeEvent(ev: DockerEvent, inspect: Inspect, memory: ContainerMemory): Promise<Described> {
  const facts = factsFromEvent(ev);
  const owner = readOwner(facts, uidToName).owner ?? undefined;
  const name = facts.name || memory.get(ev.id)?.name || ev.id.slice(0, 12);
  const base = { container: name, container_id: ev.id, docker_time_nano: ev.timeNano.toString() };
  const labelledGpu = readGpuUse(facts).hasGpu;

  switch (ev.action) {
    case 'create': {
      if (isManaged(facts)) {
        // The wrapper logged it; remember the GPU use from its labels.
        memory.update(ev.id, { name, gpu: labelledGpu });
        return { event: null, reconcileGpus: false };
      }
      const info = await inspect(ev.id);
      const full = info ? { ...factsFromInspect(info), labels: { ...facts.labels, ...(info.Config?.Labels ?? {}) } } : facts;
      const gpu = info ? gpuRequestText(full) : { text: labelledGpu ? gpuRequestText(facts).text : 'unknown', uuids: [] };
      memory.update(ev.id, { name, gpu: gpu.text !== 'none' && gpu.text !== 'unknown' });
      const details: EventDetails<'container.create'> = {
        ...base,
        image: ev.attributes.image ?? info?.Config?.Image ?? 'unknown',
        container_type: readType(full),
        managed: false,
        gpu_request: gpu.text,
      };
      if (gpu.uuids.length > 0) details.gpus = gpu.uuids.map((uuid) => ({ uuid }));
      return { event: { type: 'container.create', user: owner, details }, reconcileGpus: false };
    }
    case 'start': {
      memory.update(ev.id, { name, startedNano: ev.timeNano, oom: false, ...(labelledGpu ? { gpu: true } : {}) });
      return {
        event: {
          type: 'container.start',
          user: owner,
          details: { ...base, image: ev.attributes.image ?? 'unknown', container_type: readType(facts) },
        },
        reconcileGpus: false,
      };
    }
    case 'die': {
      const remembered = memory.get(ev.id);
      // Seen since its start, the event stream already says everything (exit code, OOM, run time, GPU
      // from create): inspect only a container met mid-run (after a restart), which costs a round trip.
      const info = remembered?.startedNano !== undefined && remembered.gpu !== undefined ? null : await inspect(ev.id);
      const eventMs = Number(ev.timeNano / 1_000_000n);
      const finished = parseDockerTime(info?.State?.FinishedAt);
      const started = parseDockerTime(info?.State?.StartedAt);
      const sameRun = info?.State?.Running !== true && finished !== null && Math.abs(finished - eventMs) <= SAME_RUN_SLACK_MS;
      const code = Number.parseInt(ev.attributes.exitCode ?? '', 10);
      const exitCode = Number.isFinite(code) ? code : null;
      const details: EventDetails<'container.stop'> = {
        ...base,
        oom_killed: remembered?.oom === true || (sameRun && info?.State?.OOMKilled === true),
        signal: signalFromExitCode(exitCode),
        container_type: readType(facts),
      };
      if (exitCode !== null) details.exit_code = exitCode;
      if (sameRun && started !== null && finished !== null) details.ran_for_s = roundSeconds(finished - started);
      else if (remembered?.startedNano !== undefined) {
        details.ran_for_s = roundSeconds(Number((ev.timeNano - remembered.startedNano) / 1_000_000n));
      }
      const gpu =
        labelledGpu || remembered?.gpu === true || (info ? readGpuUse({ ...factsFromInspect(info), labels: facts.labels }).hasGpu : false);
      memory.update(ev.id, { name, gpu, oom: false });
      return { event: { type: 'container.stop', user: owner, details }, reconcileGpus: gpu };
    }
    case 'oom': {
      memory.update(ev.id, { name, oom: true });
      const info = await inspect(ev.id);
      const details: EventDetails<'container.oom'> = { ...base };
      if (info) details.memory_limit = memoryText(info.HostConfig?.Memory);
      return { event: { type: 'container.oom', user: owner, details }, reconcileGpus: false };
    }
    case 'destroy': {
      const gpu = labelledGpu || memory.get(ev.id)?.gpu === true;
      memory.forget(ev.id);
      return {
        event: { type: 'container.remove', user: owner, details: { ...base, container_type: readType(facts) } },
        reconcileGpus: gpu,
      };
    }
    case 'rename': {
      memory.update(ev.id, { name });
      const old = (ev.attributes.oldName ?? '').replace(/^\//, '');
      const details: EventDetails<'container.rename'> = { ...base };
      if (old) details.old_name = old;
      return { event: { type: 'container.rename', user: owner, details }, reconcileGpus: false };
    }
    case 'pause':
      return { event: { type: 'container.pause', user: owner, details: base }, reconcileGpus: false };
    case 'unpause':
      return { event: { type: 'container.unpause', user: owner, details: base }, reconcileGpus: false };
    default:
      return { event: null, reconcileGpus: false };
  }
}
