import type { Ds01Event } from '../envelope.js';

/**
 * Parses one stored line into an event, accepting v2, v1 and the legacy flat
 * records (`ts`, `event`). Returns null for anything that is not an event.
 * Tolerates the bare NaN/Infinity tokens the original writer let through, and
 * recovers an event glued after a torn fragment (a write cut short by a full
 * disk leaves no newline, so the next event lands on the same line).
 */
export function parseEventLine(line: string): Ds01Event | null {
  const trimmed = line.trim();
  if (trimmed.length === 0) return null;
  const direct = tryParse(trimmed);
  if (direct) return direct;
  // Torn fragment + full event on one line: retry from each later object start.
  let from = 1;
  for (;;) {
    const at = trimmed.indexOf('{"', from);
    if (at < 0) return null;
    const rest = tryParse(trimmed.slice(at));
    if (rest) return rest;
    from = at + 1;
  }
}

function tryParse(text: string): Ds01Event | null {
  if (text[0] !== '{') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const repaired = replaceNonFiniteTokens(text);
    if (repaired === text) return null;
    try {
      value = JSON.parse(repaired);
    } catch {
      return null;
    }
  }
  return normaliseRecord(value);
}

/** Replaces bare NaN / Infinity / -Infinity outside strings with null. */
function replaceNonFiniteTokens(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (text.startsWith('NaN', i)) {
      out += 'null';
      i += 2;
    } else if (text.startsWith('-Infinity', i)) {
      out += 'null';
      i += 8;
    } else if (text.startsWith('Infinity', i)) {
      out += 'null';
      i += 7;
    } else out += c;
  }
  return out;
}

const LEGACY_ENVELOPE = new Set(['ts', 'event', 'user', 'source', 'timestamp', 'event_type']);

/** Brings v1 and legacy records to the v2 field names; v2 and v1 are returned as they are. */
export function normaliseRecord(value: unknown): Ds01Event | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const rec = value as Record<string, unknown>;
  if (typeof rec.event_type === 'string' && typeof rec.timestamp === 'string') {
    return rec as unknown as Ds01Event;
  }
  const type = rec.event_type ?? rec.event;
  const ts = rec.timestamp ?? rec.ts;
  if (typeof type !== 'string' || typeof ts !== 'string') return null;
  // Legacy flat record: every non-envelope key becomes a detail (container included).
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (!LEGACY_ENVELOPE.has(k)) details[k] = v;
  }
  const event: Ds01Event = { timestamp: ts, event_type: type, schema_version: '0' };
  if (typeof rec.user === 'string' && rec.user) event.user = rec.user;
  if (typeof rec.source === 'string' && rec.source) event.source = rec.source;
  if (Object.keys(details).length > 0) event.details = details;
  return event;
}

/** Milliseconds since the epoch of an event's timestamp, whatever its precision or zone; NaN if unparseable. */
export function eventTime(event: Pick<Ds01Event, 'timestamp'>): number {
  return Date.parse(event.timestamp);
}
