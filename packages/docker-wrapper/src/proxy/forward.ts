import http from 'node:http';
import type { EngineTarget } from '@ds01/events-core/engine';

/** Headers that belong to one connection, not to the request: never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function passableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export interface ForwardOptions {
  /** Path and query to send (the client's, or rewritten). */
  path: string;
  /** A replaced body (the client's was read and rewritten); else the client's is streamed. */
  body?: Buffer;
  /** Called with the engine's status and whole body before the client gets them (create: bind or release GPUs, log). */
  inspectResponse?: (status: number, body: Buffer) => Promise<void>;
  /** Replaces the engine's whole answer before the client gets it (system df cut to the caller's containers). */
  rewriteResponse?: (status: number, body: Buffer) => Buffer;
}

/** The upstream daemon over a keep-alive pool (the Docker CLI reuses its connection too). */
export function upstreamAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxFreeSockets: 16 });
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * One request to the engine, streamed both ways (logs -f, events, build
 * contexts, image load/save): the client's body flows up as it arrives and
 * the engine's answer flows back with its status and headers. A client that
 * goes away takes the upstream request with it.
 */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: EngineTarget,
  agent: http.Agent,
  opts: ForwardOptions,
): void {
  const headers = passableHeaders(req.headers);
  if (opts.body) {
    headers['content-length'] = opts.body.length;
    delete headers['transfer-encoding'];
  }
  const target = 'socketPath' in upstream ? { socketPath: upstream.socketPath } : { host: upstream.host, port: upstream.port };
  const up = http.request({ ...target, agent, method: req.method, path: opts.path, headers }, (upRes) => {
    const status = upRes.statusCode ?? 502;
    const outHeaders = passableHeaders(upRes.headers);
    if (opts.inspectResponse || opts.rewriteResponse) {
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('error', () => res.destroy());
      upRes.on('end', () => {
        const whole = Buffer.concat(chunks);
        const body = opts.rewriteResponse ? opts.rewriteResponse(status, whole) : whole;
        (opts.inspectResponse ? opts.inspectResponse(status, whole) : Promise.resolve())
          .catch(() => {})
          .finally(() => {
            outHeaders['content-length'] = body.length;
            res.writeHead(status, upRes.statusMessage, outHeaders);
            res.end(body);
          });
      });
      return;
    }
    res.writeHead(status, upRes.statusMessage, outHeaders);
    // Streams (events, logs -f, stats) must reach the client as they come, not when a buffer fills.
    res.flushHeaders();
    upRes.pipe(res);
    upRes.on('error', () => res.destroy());
  });
  up.on('error', (err) => sendError(res, 502, `ds01: the Docker daemon cannot be reached through the proxy: ${err.message}`));
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  if (opts.body) up.end(opts.body);
  else req.pipe(up);
}

export { sendError };
