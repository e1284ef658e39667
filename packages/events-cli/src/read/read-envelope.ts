import { checkObjectRest } from './check-json.js';
import { quickTime } from './hit.js';

/**
 * Where the envelope fields of one line lie, as byte spans of its buffer
 * (strings without their quotes). A span of -1 means the field is absent.
 * One shared object, filled by readEnvelope: the caller reads it before the
 * next call.
 */
export interface EnvelopeSpans {
  typeStart: number;
  typeEnd: number;
  userStart: number;
  userEnd: number;
  sourceStart: number;
  sourceEnd: number;
  /** Epoch ms of the timestamp (quickTime's reading of it). */
  time: number;
  /** Index of the line's end: its newline, or the limit passed in. */
  lineEnd: number;
}

export const spans: EnvelopeSpans = {
  typeStart: 0,
  typeEnd: 0,
  userStart: -1,
  userEnd: -1,
  sourceStart: -1,
  sourceEnd: -1,
  time: 0,
  lineEnd: 0,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

const PREFIX = Buffer.from('{"timestamp":"');
const TYPE_KEY = Buffer.from(',"event_type":"');
const VERSION_KEY = Buffer.from(',"schema_version":"');
const USER_KEY = Buffer.from(',"user":"');
const SOURCE_KEY = Buffer.from(',"source":"');
// Keys that, repeated later in a record, would replace what the envelope read (JSON.parse keeps the last).
const SHADOWING_KEYS = ['timestamp', 'event_type', 'user', 'source'].map((k) => Buffer.from(k));

/**
 * Reads the envelope of a line in the exact shape events-core (and the v1
 * writer) produce — `{"timestamp":…,"event_type":…,"schema_version":…` then
 * optional `"user"` and `"source"` — straight from the bytes, and checks that
 * the whole line is strict JSON, so a line accepted here is one that
 * JSON.parse accepts and reads to the same type, user, source and time.
 *
 * Returns false for anything else (another key order, escapes or non-ASCII
 * in an envelope field, whitespace between tokens of the envelope, a second
 * `timestamp`/`event_type`/`user`/`source` key, invalid JSON, an unreadable
 * time, nesting deeper than 32): the caller then takes the JSON.parse path,
 * which gives the answer for those lines. The line runs from `start` to its
 * newline or to `limit`.
 */
export function readEnvelope(buf: Buffer, start: number, limit: number): boolean {
  if (!startsWith(buf, start, limit, PREFIX)) return false;
  const tsStart = start + PREFIX.length;
  const tsEnd = plainString(buf, tsStart, limit);
  if (tsEnd < 0) return false;
  if (!startsWith(buf, tsEnd + 1, limit, TYPE_KEY)) return false;
  const typeStart = tsEnd + 1 + TYPE_KEY.length;
  const typeEnd = plainString(buf, typeStart, limit);
  if (typeEnd < 0) return false;
  if (!startsWith(buf, typeEnd + 1, limit, VERSION_KEY)) return false;
  const versionEnd = plainString(buf, typeEnd + 1 + VERSION_KEY.length, limit);
  if (versionEnd < 0) return false;
  let pos = versionEnd + 1;
  let userStart = -1;
  let userEnd = -1;
  if (startsWith(buf, pos, limit, USER_KEY)) {
    userStart = pos + USER_KEY.length;
    userEnd = plainString(buf, userStart, limit);
    if (userEnd < 0) return false;
    pos = userEnd + 1;
  }
  let sourceStart = -1;
  let sourceEnd = -1;
  if (startsWith(buf, pos, limit, SOURCE_KEY)) {
    sourceStart = pos + SOURCE_KEY.length;
    sourceEnd = plainString(buf, sourceStart, limit);
    if (sourceEnd < 0) return false;
    pos = sourceEnd + 1;
  }
  pos = checkObjectRest(buf, pos, limit, shadows);
  if (pos < 0) return false;
  while (pos < limit && isSpace(buf[pos])) pos++;
  if (pos < limit && buf[pos] !== NEWLINE) return false;
  const time = timeOf(buf, tsStart, tsEnd);
  if (Number.isNaN(time)) return false;
  spans.typeStart = typeStart;
  spans.typeEnd = typeEnd;
  spans.userStart = userStart;
  spans.userEnd = userEnd;
  spans.sourceStart = sourceStart;
  spans.sourceEnd = sourceEnd;
  spans.time = time;
  spans.lineEnd = pos;
  return true;
}

function startsWith(buf: Buffer, at: number, limit: number, what: Buffer): boolean {
  if (at + what.length > limit) return false;
  for (let i = 0; i < what.length; i++) if (buf[at + i] !== what[i]) return false;
  return true;
}

/** End (the closing quote) of a string of printable ASCII without escapes starting at `at`, else -1. */
function plainString(buf: Buffer, at: number, limit: number): number {
  for (let i = at; i < limit; i++) {
    const c = buf[i] as number;
    if (c === QUOTE) return i;
    if (c < 0x20 || c >= 0x7f || c === BACKSLASH) return -1;
  }
  return -1;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/** True for a key that is (or, with escapes, might be) one of the envelope fields read. */
function shadows(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === BACKSLASH) return true;
  const len = end - start;
  for (const key of SHADOWING_KEYS) {
    if (key.length !== len) continue;
    let same = true;
    for (let i = 0; i < len; i++) {
      if (buf[start + i] !== key[i]) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}

function digit(c: number | undefined): number {
  return c !== undefined && c >= 0x30 && c <= 0x39 ? c - 0x30 : -100;
}

// The hour of the last timestamp read and its epoch ms: consecutive events share it.
const hourBytes = Buffer.alloc(13);
let hourBase = Number.NaN;

/**
 * quickTime of the timestamp bytes [start, end), without making a string for
 * the usual `YYYY-MM-DDTHH:MM:SS.mmmZ`: only its minutes, seconds and
 * milliseconds are read when the hour is the previous one's. Any other shape
 * is decoded and handed to quickTime itself, so the result is always
 * quickTime's.
 */
function timeOf(buf: Buffer, start: number, end: number): number {
  if (end - start !== 24 || buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a || buf[start + 19] !== 0x2e || buf[start + 23] !== 0x5a) {
    return quickTime(buf.toString('latin1', start, end));
  }
  let sameHour = !Number.isNaN(hourBase);
  for (let i = 0; i < 13 && sameHour; i++) if (buf[start + i] !== hourBytes[i]) sameHour = false;
  if (!sameHour) {
    // plainString let only printable ASCII through, so latin1 is the text itself.
    const base = Date.parse(`${buf.toString('latin1', start, start + 13)}:00:00.000Z`);
    if (Number.isNaN(base)) return quickTime(buf.toString('latin1', start, end));
    buf.copy(hourBytes, 0, start, start + 13);
    hourBase = base;
  }
  const m1 = digit(buf[start + 14]);
  const m2 = digit(buf[start + 15]);
  const s1 = digit(buf[start + 17]);
  const s2 = digit(buf[start + 18]);
  const f1 = digit(buf[start + 20]);
  const f2 = digit(buf[start + 21]);
  const f3 = digit(buf[start + 22]);
  // digit() gives -100 for a non-digit, which makes its sum negative.
  const mm = m1 * 10 + m2;
  const ss = s1 * 10 + s2;
  const ms = f1 * 100 + f2 * 10 + f3;
  if (!(mm >= 0 && mm < 60 && ss >= 0 && ss < 60 && ms >= 0) || m2 < 0 || s2 < 0 || f2 < 0 || f3 < 0) {
    return quickTime(buf.toString('latin1', start, end));
  }
  return hourBase + mm * 60_000 + ss * 1000 + ms;
}
