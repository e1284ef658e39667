import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { logEvent } from '@ds01/events-core';
import type { Denial } from '../deny.js';

export const PROXY_SOURCE = 'ds01-docker-proxy';

/** What the Docker CLI prints after "Error response from daemon: ". */
export function refusalMessage(d: Denial): string {
  return `ds01: ${d.rule}: ${d.reason}.${d.hint ? ` ${d.hint}` : ''}`;
}

/** The `auth.denied` event of a refusal, with the socket's user as subject. */
export function logRefusal(d: Denial, user: string, operation: string): void {
  const details: { operation: string; rule: string; reason: string; target?: string } = { operation, rule: d.rule, reason: d.reason };
  if (d.target) details.target = d.target;
  logEvent('auth.denied', { user, source: PROXY_SOURCE, details });
}

/** 403 with the engine's error shape. */
export function refuseHttp(res: http.ServerResponse, d: Denial): void {
  const body = JSON.stringify({ message: refusalMessage(d) });
  res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The same 403 on a connection that asked to be upgraded (attach, exec start). */
export function refuseRaw(socket: Duplex, d: Denial): void {
  const body = JSON.stringify({ message: refusalMessage(d) });
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
