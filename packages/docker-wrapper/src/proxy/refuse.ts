import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Denial } from '../deny.js';

export { PROXY_SOURCE } from './denial-log.js';

/** What the Docker CLI prints after "Error response from daemon: ". */
export function refusalMessage(d: Denial): string {
  return `ds01: ${d.rule}: ${d.reason}.${d.hint ? ` ${d.hint}` : ''}`;
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
