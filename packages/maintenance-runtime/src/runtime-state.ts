import { statePath } from '@ds01/events-core';
import { StateFile } from '@ds01/events-core/state';
import type { Ledger } from './runtime-ledger.js';

/** The warnings of the current lap; cleared when the container is restarted or stopped. */
export interface WarningMarks {
  firstAt?: number | null;
  finalAt?: number | null;
  /** The stop time the last warning announced (planWarnings re-arms when it moves later). */
  dueAt?: number | null;
}

/** Everything the job remembers about one container id (times are epoch ms). */
export interface ContainerRecord {
  name: string;
  user: string | null;
  type: string;
  firstSeen: number;
  lastSeen: number;
  ledger: Ledger;
  warnings: WarningMarks;
  /** When the owner was told, once per container, that an exemption kept it running. */
  exemptNotifiedAt?: number;
  /** When this job last stopped it. */
  stoppedAt?: number;
}

export interface RuntimeState {
  version: 1;
  containers: Record<string, ContainerRecord>;
}

export const STATE_FILE_NAME = 'runtime-state.json';

export function emptyState(): RuntimeState {
  return { version: 1, containers: {} };
}

function validate(data: unknown): string | null {
  const d = data as Partial<RuntimeState> | null;
  if (!d || typeof d !== 'object') return 'not a JSON object';
  if (d.version !== 1) return `unknown state version ${JSON.stringify(d.version)}`;
  if (!d.containers || typeof d.containers !== 'object' || Array.isArray(d.containers)) return 'containers: not an object';
  for (const [id, c] of Object.entries(d.containers)) {
    if (!c?.ledger?.lap || typeof c.ledger.lap.start !== 'number' || typeof c.ledger.closedMs !== 'number') {
      return `containers.${id}: no valid ledger`;
    }
  }
  return null;
}

/** The job's one state file, `$DS01_STATE_DIR/runtime-state.json` (root-owned, readable by all). */
export function runtimeStateFile(): StateFile<RuntimeState> {
  return new StateFile<RuntimeState>(statePath(STATE_FILE_NAME), emptyState, { validate, mode: 0o644 });
}
