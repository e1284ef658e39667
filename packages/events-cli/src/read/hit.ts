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
  const time = eventTime(event);
  if (Number.isNaN(time)) return null;
  if (json.length !== text.length) return { event, json, time, file, end };
  return { event, json: text.trim(), time, file, end };
}

/** Milliseconds a line may be out of timestamp order and still be found (writers stamp before they append). */
export const CLOCK_SKEW_MS = 5 * 60_000;

const DETAILS_KEY = Buffer.from(',"details":');
const RECORD_START = Buffer.from('{"timestamp":"');

/**
 * For counting (summary, --count): parses only the envelope fields written
 * before `details` (timestamp, type, user, source), which is about half the
 * work of a full parse. Anything unusual falls back to the full parse: no
 * `details` key, a line not ending in `}`, a second record glued on (torn
 * write), or a prefix that is not valid JSON. The hit's `json` is then only
 * the prefix and must not be printed.
 */
export function parseEnvelopeHit(buf: Buffer, s: number, e: number, file: string): Hit | null {
  const cut = buf.indexOf(DETAILS_KEY, s);
  let end = e;
  while (end > s && (buf[end - 1] === 0x20 || buf[end - 1] === 0x0d)) end--;
  if (cut > s && cut < end && buf[end - 1] === 0x7d) {
    const glued = buf.indexOf(RECORD_START, s + 1);
    if (glued < 0 || glued >= end) {
      const text = `${buf.toString('utf8', s, cut)}}`;
      try {
        const event = normaliseRecord(JSON.parse(text));
        if (event) {
          const time = eventTime(event);
          if (!Number.isNaN(time)) return { event, json: text, time, file, end: e + 1 };
        }
      } catch {
        /* fall through to the full parse */
      }
    }
  }
  return parseHit(buf.toString('utf8', s, e), file, e + 1);
}
