import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EngineTarget } from '@ds01/events-core/engine';

/** The longest response head the engine sends before a hijacked stream. */
const MAX_RESPONSE_HEAD = 64 * 1024;

function rawError(client: Duplex, status: string, message: string): void {
  const body = JSON.stringify({ message });
  if (!client.destroyed && client.writable)
    client.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
}

/**
 * A hijacked connection (`attach`, `exec start` with `Upgrade: tcp`,
 * BuildKit's `/session`). Once the rules have passed, the request (and its
 * body, Content-Length bytes) goes up as the client wrote it. Nothing more
 * of the client's bytes goes up until the engine has answered `101`: only
 * then are the two sockets joined byte for byte (half-closes passed on: the
 * CLI closes its side when stdin ends and still reads the output). Any other
 * answer (a 404, an exec started detached) is relayed and both connections
 * are closed, so a client cannot follow an unhijacked answer with a second,
 * unchecked request on the engine's connection.
 */
export function spliceUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, upstream: EngineTarget, path: string): void {
  if (req.headers['transfer-encoding']) {
    rawError(client, '400 Bad Request', 'ds01: a hijacked request must give its body length (Content-Length)');
    return;
  }
  const bodyLength = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
    rawError(client, '400 Bad Request', 'ds01: bad Content-Length');
    return;
  }
  const up =
    'socketPath' in upstream
      ? net.connect({ path: upstream.socketPath, allowHalfOpen: true })
      : net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
  const lines = [`${req.method} ${path} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);

  // Client bytes past the request body wait here until the engine has switched protocols.
  let held: Buffer[] = [];
  let bodyLeft = bodyLength;
  let joined = false;
  const sendBody = (chunk: Buffer) => {
    if (bodyLeft > 0) {
      const part = chunk.subarray(0, bodyLeft);
      up.write(part);
      bodyLeft -= part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length > 0) held.push(chunk);
  };
  const onClientData = (chunk: Buffer) => sendBody(chunk);
  // A client that ends its side early (empty stdin) before the switch: passed on once joined.
  let clientEnded = false;
  client.once('end', () => {
    clientEnded = true;
  });

  const fail = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', fail);
  up.on('error', () => {
    if (!joined) rawError(client, '502 Bad Gateway', 'ds01: the Docker daemon cannot be reached through the proxy');
    else client.destroy();
    up.destroy();
  });

  let answer = Buffer.alloc(0);
  const onUpData = (chunk: Buffer) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (answer.length > MAX_RESPONSE_HEAD) fail();
      return;
    }
    up.off('data', onUpData);
    up.pause();
    client.off('data', onClientData);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, answer.indexOf('\r\n')).toString('latin1'))?.[1];
    client.write(answer);
    if (status === '101') {
      joined = true;
      for (const b of held) up.write(b);
      held = [];
      if (clientEnded) up.end();
      else client.pipe(up);
      up.pipe(client);
      up.resume();
      client.resume();
      return;
    }
    // Not hijacked: the rest of this answer, then both connections end.
    held = [];
    client.pause();
    up.end();
    up.pipe(client);
    up.resume();
  };

  up.once('connect', () => {
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    sendBody(head);
    up.on('data', onUpData);
    client.on('data', onClientData);
    client.resume();
  });
}
