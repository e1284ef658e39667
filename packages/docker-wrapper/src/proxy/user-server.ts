import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineTarget } from '@ds01/events-core/engine';
import { Denial } from '../deny.js';
import { RELAY_PATH } from '../log.js';
import { type Decision, decideRequest, operationOf } from './decide-request.js';
import type { DenialLog } from './denial-log.js';
import { forwardRequest, sendError } from './forward.js';
import { refuseHttp, refuseRaw } from './refuse.js';
import { relayEvent } from './relay-event.js';
import { routeRequest } from './route-request.js';
import { spliceUpgrade } from './splice-upgrade.js';
import type { Sessions } from './user-session.js';

/** Largest request body the rules read whole (create, update, exec, network connect, volume create, commit). */
export const MAX_CHECKED_BODY = 4 * 1024 * 1024;

export interface ServerDeps {
  sessions: Sessions;
  upstream: EngineTarget;
  agent: http.Agent;
  denials: DenialLog;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CHECKED_BODY) {
        reject(new Denial('bad-request', `the request body is over ${MAX_CHECKED_BODY} bytes`, 'Send a smaller request.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function decide(deps: ServerDeps, user: string, info: Parameters<typeof decideRequest>[1]): Promise<Decision> {
  try {
    const session = await deps.sessions.get(user);
    return await decideRequest(session, info);
  } catch (err) {
    if (err instanceof Denial) return { action: 'refuse', denial: err };
    throw err;
  }
}

function internal(user: string, method: string, url: string, err: unknown): string {
  const message = (err as Error).message ?? String(err);
  process.stderr.write(`ds01-docker-proxy: ${user}: ${method} ${url}: ${(err as Error).stack ?? message}\n`);
  return `ds01: the proxy could not check this request (${message}); it was not sent. Tell an administrator.`;
}

/** A container create (a path the router cannot read is left to the rules, which refuse it). */
function isCreate(method: string, url: string): boolean {
  try {
    return routeRequest(method, url).route.kind === 'create';
  } catch {
    return false;
  }
}

/**
 * The HTTP server behind one user's socket. The socket's path is the
 * caller's identity: only that user (and root) can open it.
 */
export function createUserServer(user: string, deps: ServerDeps): http.Server {
  // One create at a time for this user, from its check to the engine's answer: two creates sent
  // together would otherwise both pass max_containers_per_user (and the aggregate memory cap).
  let creates: Promise<void> = Promise.resolve();
  const oneCreateAtATime = (res: http.ServerResponse, handle: () => void): void => {
    const turn = creates.then(
      () =>
        new Promise<void>((done) => {
          res.once('close', () => done());
          handle();
        }),
    );
    creates = turn;
  };

  // No request timeout: build contexts and image loads can take longer than node's default five minutes.
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (method === 'POST' && isCreate(method, url)) {
      oneCreateAtATime(res, () => handleRequest(req, res, method, url));
      return;
    }
    handleRequest(req, res, method, url);
  });
  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse, method: string, url: string): void => {
    if (url === RELAY_PATH) {
      if (method !== 'POST') {
        sendError(res, 405, 'ds01: POST an event here');
        return;
      }
      readBody(req)
        .then((body) => {
          const answer = relayEvent(body, user, deps.denials);
          if (answer.message) sendError(res, answer.status, answer.message);
          else res.writeHead(answer.status).end();
        })
        .catch((err) => sendError(res, 400, (err as Error).message));
      return;
    }
    decide(deps, user, { method, url, headers: req.headers, readBody: () => readBody(req) })
      .then((d) => {
        if (d.action === 'refuse') {
          deps.denials.log(d.denial, user, operationOf(method, routeRequest(method, url)));
          refuseHttp(res, d.denial);
          return;
        }
        const opts: Parameters<typeof forwardRequest>[4] = { path: d.path };
        if (d.body) opts.body = d.body;
        if (d.inspectResponse) opts.inspectResponse = d.inspectResponse;
        if (d.rewriteResponse) opts.rewriteResponse = d.rewriteResponse;
        forwardRequest(req, res, deps.upstream, deps.agent, opts);
      })
      // Whatever one request throws (a path node:http will not send...) ends that request, never the proxy.
      .catch((err) => sendError(res, 500, internal(user, method, url, err)));
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    // Bytes that arrive while the rules run wait in the socket until the splice.
    socket.pause();
    socket.on('error', () => socket.destroy());
    decide(deps, user, { method, url, headers: req.headers })
      .then((d) => {
        if (d.action === 'refuse') {
          deps.denials.log(d.denial, user, operationOf(method, routeRequest(method, url)));
          refuseRaw(socket, d.denial);
          return;
        }
        spliceUpgrade(req, socket, head, deps.upstream, d.path);
      })
      .catch((err) => {
        const body = JSON.stringify({ message: internal(user, method, url, err) });
        socket.end(
          `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
