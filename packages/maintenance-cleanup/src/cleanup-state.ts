import { statePath } from '@ds01/events-core';
import { StateFile } from '@ds01/events-core/state';

interface Seen {
  first_seen: string;
  last_seen: string;
}

/**
 * The job's memory between runs: which orphans it has already reported, so
 * each is one event when first seen rather than one every ten minutes.
 * Entries not seen in a run are dropped (the orphan is gone).
 */
export interface CleanupState {
  version: 1;
  orphan_processes: Record<string, Seen>;
  orphan_allocations: Record<string, Seen>;
}

const initial = (): CleanupState => ({ version: 1, orphan_processes: {}, orphan_allocations: {} });

function validate(data: unknown): string | null {
  const d = data as Partial<CleanupState> | null;
  if (!d || typeof d !== 'object' || d.version !== 1) return 'not a ds01-cleanup state file (version 1)';
  if (typeof d.orphan_processes !== 'object' || typeof d.orphan_allocations !== 'object') return 'missing orphan tables';
  return null;
}

export function cleanupStateFile(): StateFile<CleanupState> {
  return new StateFile<CleanupState>(statePath('cleanup-state.json'), initial, { validate, mode: 0o644 });
}

/** Records this run's orphans; returns the keys seen for the first time. */
export function markSeen(table: Record<string, Seen>, keys: string[], now: string): Set<string> {
  const fresh = new Set<string>();
  const current = new Set(keys);
  for (const key of Object.keys(table)) if (!current.has(key)) delete table[key];
  for (const key of keys) {
    const entry = table[key];
    if (entry) entry.last_seen = now;
    else {
      table[key] = { first_seen: now, last_seen: now };
      fresh.add(key);
    }
  }
  return fresh;
}
