import fs from 'node:fs';

export interface LoggedEvent {
  timestamp: string;
  event_type: string;
  user?: string;
  source?: string;
  details?: Record<string, unknown>;
}

/** Reads the demo's event log from a line offset (the log is the demo's own, never rotated during a run). */
export function readEventsFrom(file: string, fromLine = 0): { events: LoggedEvent[]; lines: number } {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { events: [], lines: 0 };
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const events: LoggedEvent[] = [];
  for (const line of lines.slice(fromLine)) {
    try {
      events.push(JSON.parse(line) as LoggedEvent);
    } catch {
      /* a torn line: skipped, as every reader does */
    }
  }
  return { events, lines: lines.length };
}

/** GPU UUIDs named in an event's details.gpus (a list of {uuid, ...} or of strings). */
export function gpuUuidsOf(e: LoggedEvent): string[] {
  const gpus = e.details?.gpus;
  if (!Array.isArray(gpus)) return [];
  return gpus.map((g) => (typeof g === 'string' ? g : String((g as { uuid?: unknown }).uuid ?? ''))).filter(Boolean);
}
