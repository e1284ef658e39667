import fs from 'node:fs';

/** Every line of a JSONL file, parsed; a file that is not there yet has none. */
export function readJsonLines<T = unknown>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

/** An event as tests read it back from the log. */
export interface LoggedEvent {
  timestamp: string;
  event_type: string;
  user?: string | null;
  source?: string;
  // biome-ignore lint/suspicious/noExplicitAny: details differ per event type
  details: any;
}

/** The events in a log, optionally only those of one type. */
export function loggedEvents(file: string, type?: string): LoggedEvent[] {
  return readJsonLines<LoggedEvent>(file).filter((e) => !type || e.event_type === type);
}
