import net from 'node:net';
import type { EngineTarget } from './endpoint.js';

export interface EngineAnswer {
  status: number;
  body: Buffer;
}

// One request, one answer, as HTTP/1.0 on a connection of its own: what every
// short command needs from the Engine API (the wrapper's one call per docker
// command). Loading and driving node:http (its agent, parser and request
// objects) took ~6 ms more than the exchange itself, about as much as the
// wrapper's whole check; node:net is loaded in any case. HTTP/1.0 keeps the
// answer simple to read: the engine ends it with Content-Length or by closing
// the connection. Chunked answers are read too, as a server behind a proxy
// may send them anyway. Streams (the event stream) and TLS stay with node:http.

const HEADER_END = Buffer.from('\r\n\r\n');

class AnswerError extends Error {
  override name = 'EngineAnswerError';
}

/** Status, headers (lower-cased names) and where the body starts; null until the head is complete. */
function readHead(data: Buffer): { status: number; headers: Map<string, string>; bodyAt: number } | null {
  const end = data.indexOf(HEADER_END);
  if (end < 0) return null;
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) throw new AnswerError(`the Docker engine answered with something other than HTTP: ${JSON.stringify(lines[0])}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(status[1]), headers, bodyAt: end + HEADER_END.length };
}

/** The body of a chunked answer; null while it is incomplete. */
export function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = Number.parseInt(data.toString('latin1', at, eol).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new AnswerError('the Docker engine sent a chunked answer that cannot be read');
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return null;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** The request as sent: the head, then the JSON body when there is one. */
function requestBytes(method: string, path: string, payload: string | undefined): string {
  const head = [`${method} ${path} HTTP/1.0`, 'Host: docker'];
  if (payload !== undefined) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`);
  return `${head.join('\r\n')}\r\n\r\n${payload ?? ''}`;
}

/**
 * Sends one request and resolves with the whole answer. Rejects with the
 * socket's error (its `code`: ECONNREFUSED, ENOENT, EACCES) when the engine
 * cannot be reached, and when the answer is cut short or is not HTTP.
 */
export function exchange(target: EngineTarget, method: string, path: string, payload?: string): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    const socket = 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      // After the caller has taken the answer: destroying a socket makes Node compare it with
      // process.stderr, which creates that stream (a pipe or a TTY: 1-1.5 ms here) before the wrapper could
      // hand off. The engine closes an HTTP/1.0 connection itself; this ends one that it keeps.
      setImmediate(() => socket.destroy());
    };
    let head: ReturnType<typeof readHead> = null;
    /** The answer once it is complete: by its length or chunks, or at the close when it has neither. */
    const tryFinish = (closed: boolean) => {
      if (settled) return;
      try {
        // Everything received so far as one buffer, joined once and kept joined.
        const data = () => {
          if (chunks.length !== 1) chunks.splice(0, chunks.length, Buffer.concat(chunks, received));
          return chunks[0]!;
        };
        head ??= readHead(data());
        if (!head) {
          if (closed) throw new AnswerError('the Docker engine closed the connection before answering');
          return;
        }
        const length = head.headers.get('content-length');
        const chunked = /\bchunked\b/i.test(head.headers.get('transfer-encoding') ?? '');
        let body: Buffer | null = null;
        if (chunked) body = dechunk(data().subarray(head.bodyAt));
        else if (length !== undefined) {
          if (received - head.bodyAt >= Number(length)) body = data().subarray(head.bodyAt, head.bodyAt + Number(length));
        } else if (closed) body = data().subarray(head.bodyAt);
        if (body) {
          const answer = { status: head.status, body };
          settle(() => resolve(answer));
        } else if (closed) throw new AnswerError('the Docker engine closed the connection before its answer was complete');
      } catch (err) {
        settle(() => reject(err));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      tryFinish(false);
    });
    socket.on('end', () => tryFinish(true));
    socket.on('error', (err) => settle(() => reject(err)));
    socket.on('close', () => tryFinish(true));
    socket.write(requestBytes(method, path, payload));
  });
}
