import type { Ds01Event } from '@ds01/events-core';
import { eventTime, normaliseRecord, parseEventLine } from '@ds01/events-core/read';

/** One event as read from a log. */
export interface Hit {
  event: Ds01Event;
  /** The stored record as one line of JSON (the line itself when it was valid JSON). */
  json: string;
  /** Epoch ms of the event's timestamp. */
  time: number;
  /** The file it came from and the byte offset just after its line (decompressed offset for .gz). */
  file: string;
  end: number;
}

/** Counters shared by every reader of one query. */
export interface ReadStats {
  /** Lines that were looked at and could not be read as an event. */
  skipped: number;
}

/** Parses one raw line; null (counted as skipped by the caller) when it is not an event with a readable time. */
export function parseHit(text: string, file: string, end: number): Hit | null {
  let event: Ds01Event | null = null;
  let json = text;
  try {
    event = normaliseRecord(JSON.parse(text));
  } catch {
    // NaN tokens or a torn prefix: events-core repairs what it can. The
    // repaired record is re-serialised so every --json line is strict JSON.
    event = parseEventLine(text);
    if (event) json = JSON.stringify(event);
  }
  if (!event) return null;
  const time = quickTime(event.timestamp);
  if (Number.isNaN(time)) return null;
  if (json.length !== text.length) return { event, json, time, file, end };
  return { event, json: text.trim(), time, file, end };
}

/** Milliseconds a line may be out of timestamp order and still be found (writers stamp before they append). */
export const CLOCK_SKEW_MS = 5 * 60_000;

let hourKey = '';
let hourBase = 0;

/**
 * eventTime for the one shape events-core writes (`2026-01-30T14:30:00.123Z`),
 * without Date.parse: consecutive events share their hour, so only minutes,
 * seconds and milliseconds are read. Any other shape goes to eventTime.
 */
export function quickTime(ts: string): number {
  if (typeof ts !== 'string' || ts.length !== 24 || ts.charCodeAt(23) !== 90 || ts.charCodeAt(19) !== 46) {
    return eventTime({ timestamp: ts });
  }
  const hour = ts.slice(0, 13);
  if (hour !== hourKey) {
    const base = Date.parse(`${hour}:00:00.000Z`);
    if (Number.isNaN(base)) return eventTime({ timestamp: ts });
    hourKey = hour;
    hourBase = base;
  }
  const d = (i: number) => ts.charCodeAt(i) - 48;
  const mm = d(14) * 10 + d(15);
  const ss = d(17) * 10 + d(18);
  const ms = d(20) * 100 + d(21) * 10 + d(22);
  if (!(mm >= 0 && mm < 60 && ss >= 0 && ss < 60 && ms >= 0 && ms < 1000) || ts.charCodeAt(16) !== 58 || ts.charCodeAt(13) !== 58) {
    return eventTime({ timestamp: ts });
  }
  return hourBase + mm * 60_000 + ss * 1000 + ms;
}
