import { v7 as uuidv7 } from 'uuid';
import { type Ds01Event, EVENT_TYPE_MAX_LENGTH, EVENT_TYPE_PATTERN, SCHEMA_VERSION } from '../envelope.js';
import type { EventDetails, EventType } from '../event-types/index.js';
import { eventsFilePath } from '../paths.js';
import { appendLine } from './append.js';
import { toJsonSafe } from './json-safe.js';
import { processStamp } from './process-stamp.js';
import { serialiseWithinLimit } from './shrink.js';

export interface LogOptions<D> {
  /** The subject: the user the event is about (owner), not necessarily who acted. */
  user?: string | null | undefined;
  /** The component writing (e.g. `ds01-gpu`). */
  source?: string | null | undefined;
  details?: D;
  /** Overrides DS01_EVENTS_FILE for this call. */
  file?: string;
}

const typePattern = new RegExp(EVENT_TYPE_PATTERN);
let lastWarning = '';

function warn(message: string): void {
  // One short line per distinct problem, so a broken log cannot flood a user's terminal.
  if (message === lastWarning) return;
  lastWarning = message;
  try {
    process.stderr.write(`ds01: event not logged: ${message}\n`);
  } catch {
    /* stderr closed */
  }
}

/**
 * Appends one event. Never throws and never retries or locks: returns true when
 * the line was written, false (with one warning on stderr) when it was not, and
 * the caller's operation goes on either way.
 */
export function logEvent<T extends EventType>(type: T, options: LogOptions<EventDetails<NoInfer<T>>>): boolean;
// biome-ignore lint/suspicious/noExplicitAny: the typed overload above is the public signature
export function logEvent(type: string, options: LogOptions<any>): boolean {
  return writeEvent(type, options);
}

/** Untyped entry for event types outside the catalogue (the `ds01-events log` CLI, scripts). */
export function logUncataloguedEvent(type: string, options: LogOptions<Record<string, unknown>>): boolean {
  return writeEvent(type, options);
}

function writeEvent(type: string, options: LogOptions<Record<string, unknown>>): boolean {
  try {
    if (typeof type !== 'string' || type.length > EVENT_TYPE_MAX_LENGTH || !typePattern.test(type)) {
      warn(`invalid event type ${JSON.stringify(String(type)).slice(0, 80)} (expected category.action)`);
      return false;
    }
    const line = buildLine(type, options);
    if (line === null) {
      warn(`${type}: event larger than the line limit even after shortening`);
      return false;
    }
    const file = options.file ?? eventsFilePath();
    appendLine(file, `${line}\n`);
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const file = options?.file ?? eventsFilePath();
    warn(`${e.code ?? e.name ?? 'error'} on ${file}${e.code === 'EACCES' ? ' (permission denied)' : ''}`);
    return false;
  }
}

/** Builds the serialised envelope line (without newline); exported for the benchmark and tests. */
export function buildLine(type: string, options: LogOptions<Record<string, unknown>>): string | null {
  const now = Date.now();
  const stamp = processStamp();
  const event: Ds01Event = {
    timestamp: new Date(now).toISOString(),
    event_type: type,
    schema_version: SCHEMA_VERSION,
  };
  const user = options.user == null ? '' : String(options.user);
  if (user) event.user = user;
  const source = options.source == null ? '' : String(options.source);
  if (source) event.source = source;
  if (options.details !== undefined) {
    const d = toJsonSafe(options.details);
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      if (Object.keys(d).length > 0) event.details = d as Record<string, unknown>;
    } else if (d !== undefined) {
      event.details = { value: d };
    }
  }
  event.id = uuidv7({ msecs: now });
  event.host = stamp.host;
  event.pid = stamp.pid;
  event.actor = stamp.actor;
  return serialiseWithinLimit(event);
}
