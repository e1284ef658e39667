import type http from 'node:http';
import type * as EventsCore from '@ds01/events-core';

type LogEvent = typeof EventsCore.logEvent;
// Settled writes leave the set, so a long-running user (the Engine API proxy) does not accumulate them.
const pending = new Set<Promise<unknown>>();
let loaded: Promise<typeof EventsCore> | undefined;
let relaySocket: string | undefined;

/**
 * Behind ds01-docker-proxy the event log is root's: the wrapper's events go
 * to the caller's proxy socket, which writes them with the socket's user as
 * the subject (see proxy/relay-event.ts). Events the proxy cannot take are
 * written directly, which succeeds only where the caller may write the log.
 */
export function relayEventsTo(socketPath: string): void {
  relaySocket = socketPath;
}

/** Where on a user's proxy socket the wrapper's events go (proxy/relay-event.ts answers it). */
export const RELAY_PATH = '/_ds01/events';

function relay(socketPath: string, type: string, details: unknown): Promise<boolean> {
  const body = JSON.stringify({ event_type: type, details });
  // node:http only when there is an event to relay: most commands have none.
  const http = process.getBuiltinModule('node:http');
  return new Promise((resolve) => {
    const req = http.request(
      <http.RequestOptions & { servername: string }>{
        socketPath,
        method: 'POST',
        path: RELAY_PATH,
        // As in events-core's Engine client: spares the agent's isIP() (~12 ms); no TLS here.
        servername: '',
        headers: { Host: 'ds01', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 204);
      },
    );
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

function writeLocally(type: string, options: unknown): Promise<boolean> {
  loaded ??= import('@ds01/events-core');
  return loaded.then((m) => (m.logEvent as (t: string, o: unknown) => boolean)(type, options)).catch(() => false);
}

/**
 * events-core's logEvent, loaded on first use: most docker commands log
 * nothing, and the event catalogue is not free to load. Same signature and
 * typing; the write completes in flushEvents().
 */
export const logEvent = ((type: string, options: { details?: unknown }) => {
  const socket = relaySocket;
  const write = socket
    ? relay(socket, type, options.details ?? {}).then((ok) => ok || writeLocally(type, options))
    : writeLocally(type, options);
  pending.add(write);
  void write.finally(() => pending.delete(write));
  return true;
}) as LogEvent;

/** Waits for every event to be written and closes the log. */
export async function flushEvents(): Promise<void> {
  await Promise.all([...pending]);
  if (loaded) await (await loaded).closeEventLogs();
}
