import type { Ds01Event } from '../envelope.js';
import { eventsFilePath } from '../paths.js';
import { readLines } from './lines.js';
import { type LogFile, listLogFiles } from './log-files.js';
import { eventTime, parseEventLine } from './parse-line.js';

export interface ReadOptions {
  /** The live log; its rotated siblings are read too. Default: DS01_EVENTS_FILE or the site default. */
  file?: string;
  /** Several logs, each with its siblings, read one after another. */
  files?: string[];
  /** Inclusive bounds, in epoch milliseconds; events are compared as instants. */
  since?: number;
  until?: number;
  /** Every raw line must contain one of these substrings before it is parsed (cheap prefilter). */
  anyOf?: string[];
  /** Final predicate on the parsed event. */
  where?: (event: Ds01Event) => boolean;
  /** Do not read rotated siblings. */
  liveOnly?: boolean;
}

export interface ReadRecord {
  event: Ds01Event;
  /** The line exactly as stored. */
  line: string;
  file: string;
}

/**
 * Reads events oldest to newest from the live log and its rotated siblings.
 * Malformed lines are skipped and counted in `skipped`; they never hide later events.
 */
export class EventLogReader implements AsyncIterable<ReadRecord> {
  skipped = 0;
  constructor(private readonly options: ReadOptions = {}) {}

  files(): LogFile[] {
    const lives = this.options.files?.length ? this.options.files : [this.options.file ?? eventsFilePath()];
    const all: LogFile[] = [];
    for (const live of lives) {
      const list = listLogFiles(live);
      all.push(...(this.options.liveOnly ? list.filter((f) => f.live) : list));
    }
    return all;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReadRecord> {
    const { since, until, anyOf, where } = this.options;
    for (const file of this.files()) {
      // Every event in a file was written before its mtime, so older files can be skipped whole.
      if (since !== undefined && file.mtimeMs < since) continue;
      for await (const line of readLines(file)) {
        if (anyOf && !anyOf.some((s) => line.includes(s))) continue;
        const event = parseEventLine(line);
        if (!event) {
          if (line.trim().length > 0) this.skipped++;
          continue;
        }
        if (since !== undefined || until !== undefined) {
          const t = eventTime(event);
          if (Number.isNaN(t)) {
            this.skipped++;
            continue;
          }
          if (since !== undefined && t < since) continue;
          if (until !== undefined && t > until) continue;
        }
        if (where && !where(event)) continue;
        yield { event, line, file: file.path };
      }
    }
  }
}

/** Convenience: iterate events with options; use EventLogReader directly to get the skipped count. */
export function readEvents(options: ReadOptions = {}): EventLogReader {
  return new EventLogReader(options);
}
