import { logEvent } from '@ds01/events-core';
import { type EventType, validateDetails } from '@ds01/events-core/catalogue';
import type { DenialLog } from './denial-log.js';

/** Written under the wrapper's name: these are the wrapper's events, only carried by the proxy. */
export const WRAPPER_SOURCE = 'docker-wrapper';

/** What the wrapper decides on the user's command line before any request reaches the proxy. */
const RELAYED = new Set<EventType>(['auth.denied', 'auth.bypass', 'access.unowned_container']);

export interface RelayAnswer {
  status: number;
  message?: string;
}

/**
 * Writes one of the wrapper's events for the socket's user. With the proxy in
 * place the event log is root's alone (wrapper-spec §7 B11: users could append
 * forged events and flood it); the subject is always the socket's user, the
 * type one the wrapper writes, the details valid for it, and refusals count
 * against the same per-minute limit as the proxy's own.
 */
export function relayEvent(body: Buffer, user: string, denials: DenialLog): RelayAnswer {
  let event: { event_type?: unknown; details?: unknown };
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, message: 'ds01: the event is not JSON' };
  }
  const type = event?.event_type;
  if (typeof type !== 'string' || !RELAYED.has(type as EventType))
    return { status: 403, message: `ds01: ${String(type)} is not an event the wrapper reports` };
  const details = event.details ?? {};
  const check = validateDetails(type as EventType, details);
  if (!check.valid) return { status: 400, message: `ds01: ${type}: ${check.errors.join('; ')}` };
  if (type === 'auth.denied') denials.logDetails(user, details as Parameters<DenialLog['logDetails']>[1], WRAPPER_SOURCE);
  else logEvent(type as 'auth.bypass', { user, source: WRAPPER_SOURCE, details: details as never });
  return { status: 204 };
}
