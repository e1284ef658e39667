import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EngineTarget } from '@ds01/events-core/engine';

/**
 * A hijacked connection (`attach`, `exec start` with `Upgrade: tcp`,
 * BuildKit's `/session`): once the rules have passed, the request goes up as
 * the client wrote it and the two sockets are joined byte for byte, with
 * half-closes passed on (the CLI closes its side when stdin ends and still
 * reads the output).
 */
export function spliceUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, upstream: EngineTarget, path: string): void {
  const up =
    'socketPath' in upstream
      ? net.connect({ path: upstream.socketPath, allowHalfOpen: true })
      : net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
  const lines = [`${req.method} ${path} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  const fail = () => {
    client.destroy();
    up.destroy();
  };
  up.on('error', () => {
    if (!client.destroyed && client.writable) {
      const body = JSON.stringify({ message: 'ds01: the Docker daemon cannot be reached through the proxy' });
      client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    up.destroy();
  });
  client.on('error', fail);
  up.once('connect', () => {
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) up.write(head);
    client.pipe(up);
    up.pipe(client);
  });
}
