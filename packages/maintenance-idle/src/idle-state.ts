import { statePath } from '@ds01/events-core';
import { StateFile } from '@ds01/events-core/state';

/** One sample as kept in the state file and reported in `maintenance.idle_kill`. */
export interface Sample {
  at: string;
  /** CPU over the interval, % of one core (null on the first sample or when unreadable). */
  cpu_pct: number | null;
  /** Bytes received+sent over the interval. */
  net_bytes: number | null;
  gpu_processes: number;
  /** Highest utilisation of the container's own whole GPUs (null: none readable). */
  gpu_util: number | null;
  execs: number;
  /** The signals that showed activity. */
  active: string[];
}

export interface ContainerEntry {
  name: string;
  user: string | null;
  /** State.StartedAt (epoch ms) of the run this entry describes; a restart starts a new entry. */
  started_at: number | null;
  first_seen_at: number;
  last_sample_at: number;
  /** The last sample that showed activity (the first sample counts as activity). */
  last_active_at: number;
  counters: { cpu_ns: number | null; net_bytes: number | null };
  samples: Sample[];
  warnings: { first_at: number | null; final_at: number | null; due_at: number | null };
  exempt_notice_at: number | null;
  keep_alive_reported_until: number | null;
}

export interface IdleState {
  version: 1;
  high_demand: boolean;
  containers: Record<string, ContainerEntry>;
}

export const SAMPLES_KEPT = 6;

export function emptyState(): IdleState {
  return { version: 1, high_demand: false, containers: {} };
}

function validate(data: unknown): string | null {
  const d = data as Partial<IdleState> | null;
  if (!d || typeof d !== 'object') return 'not an object';
  if (d.version !== 1) return `unknown version ${JSON.stringify(d.version)}`;
  if (!d.containers || typeof d.containers !== 'object' || Array.isArray(d.containers)) return 'containers is not an object';
  return null;
}

/** The job's state: one lowdb file keyed by container id ($DS01_STATE_DIR/idle-state.json). */
export function idleStateFile(): StateFile<IdleState> {
  return new StateFile<IdleState>(statePath('idle-state.json'), emptyState, { validate, mode: 0o644 });
}
