import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeDocker, dockerHost, testImage, uniqueName } from '../../../test-support/docker.js';
import { dechunk, exchange } from '../src/engine/exchange.js';
import { Engine, engineTarget } from '../src/engine/index.js';
import { tempDir } from './helpers/tmp.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('ds01-exchange-'); // removed after each test (helpers/tmp.ts)
});
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

let n = 0;
/** A unix-socket server that reads one request head (and body), then plays `answer` on the raw connection. */
async function rawServer(answer: (socket: net.Socket, request: string) => void): Promise<string> {
  const socketPath = path.join(dir, `s${n++}.sock`);
  const server = net.createServer((socket) => {
    let request = '';
    socket.on('data', (c) => {
      request += c.toString('latin1');
      const end = request.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(request)?.[1] ?? 0);
      if (request.length >= end + 4 + length) answer(socket, request);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return socketPath;
}

/** Writes `parts` one event-loop turn apart, so the client sees them as separate reads. */
async function dribble(socket: net.Socket, parts: string[], end = true) {
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (end) socket.end();
}

describe('exchange: one HTTP/1.0 request and its answer over a socket', () => {
  it('sends the method, path and JSON body, and reads an answer by its Content-Length without waiting for the close', async () => {
    let seen = '';
    let closed: Promise<unknown> | undefined;
    const socketPath = await rawServer((socket, request) => {
      seen = request;
      closed = new Promise((resolve) => socket.on('close', resolve));
      // The connection stays open: the length alone ends the answer.
      void dribble(
        socket,
        ['HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Len', 'gth: 11\r\n\r\n{"Id":', '"ab"}'],
        false,
      );
    });
    const answer = await exchange({ socketPath }, 'POST', '/volumes/create', JSON.stringify({ Name: 'v' }));
    expect(answer.status).toBe(201);
    expect(answer.body.toString()).toBe('{"Id":"ab"}');
    expect(seen.split('\r\n').slice(0, 2)).toEqual(['POST /volumes/create HTTP/1.0', 'Host: docker']);
    expect(seen).toMatch(/\r\nContent-Type: application\/json\r\nContent-Length: 12\r\n\r\n\{"Name":"v"\}$/);
    // A connection the server keeps open is closed by the client once the answer is in.
    await closed;
  });

  it('reads an answer with no length to the close, and a chunked one by its chunks', async () => {
    const toClose = await rawServer((socket) => void dribble(socket, ['HTTP/1.0 200 OK\r\n\r\n[1,', '2]']));
    expect((await exchange({ socketPath: toClose }, 'GET', '/x')).body.toString()).toBe('[1,2]');
    const chunked = await rawServer(
      (socket) =>
        void dribble(socket, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,', '\r\n2;ext=1\r\n2]\r\n0\r\n\r\n'], false),
    );
    expect((await exchange({ socketPath: chunked }, 'GET', '/x')).body.toString()).toBe('[1,2]');
  });

  it('fails, rather than answering, when the answer is cut short or is not HTTP', async () => {
    const short = await rawServer((socket) => void dribble(socket, ['HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"partial":']));
    await expect(exchange({ socketPath: short }, 'GET', '/x')).rejects.toThrow(/closed the connection before its answer was complete/);
    const silent = await rawServer((socket) => socket.end());
    await expect(exchange({ socketPath: silent }, 'GET', '/x')).rejects.toThrow(/closed the connection before answering/);
    const chunksCut = await rawServer(
      (socket) => void dribble(socket, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n']),
    );
    await expect(exchange({ socketPath: chunksCut }, 'GET', '/x')).rejects.toThrow(/before its answer was complete/);
    const notHttp = await rawServer((socket) => void dribble(socket, ['SSH-2.0-OpenSSH\r\n\r\n']));
    await expect(exchange({ socketPath: notHttp }, 'GET', '/x')).rejects.toThrow(/something other than HTTP: "SSH-2.0-OpenSSH"/);
  });

  it('speaks to a tcp:// endpoint as to a socket file', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\ntrue'));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const target = engineTarget(`tcp://127.0.0.1:${port}`);
    expect(target).toEqual({ host: '127.0.0.1', port, protocol: 'http' });
    expect(await new Engine(`tcp://127.0.0.1:${port}`).request('GET', '/_ping')).toEqual({ status: 200, json: true });
  });

  it('rejects with the socket error code when nothing listens', async () => {
    await expect(exchange({ socketPath: path.join(dir, 'none.sock') }, 'GET', '/x')).rejects.toMatchObject({ code: 'ENOENT' });
    const stale = path.join(dir, 'stale.sock');
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(stale, resolve));
    await new Promise((resolve) => s.close(resolve));
    fs.writeFileSync(stale, '');
    await expect(exchange({ socketPath: stale }, 'GET', '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('is answered by a node:http server as by the engine (the Engine API proxy is one)', async () => {
    const socketPath = path.join(dir, 'node-http.sock');
    const server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      // Several writes and no length: a server free to chunk the answer.
      res.write(`{"method":"${req.method}",`);
      res.end(`"url":"${req.url}","version":"${req.httpVersion}"}`);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const answer = await new Engine(`unix://${socketPath}`).request('GET', '/containers/json?all=1');
    expect(answer).toEqual({ status: 200, json: { method: 'GET', url: '/containers/json?all=1', version: '1.0' } });
  });

  it('dechunk waits for the last chunk', () => {
    expect(dechunk(Buffer.from('2\r\nab\r\n'))).toBeNull();
    expect(dechunk(Buffer.from('2\r\nab\r\n1\r\nc\r\n0\r\n\r\n'))?.toString()).toBe('abc');
    expect(() => dechunk(Buffer.from('zz\r\nab\r\n'))).toThrow(/chunked answer that cannot be read/);
  });
});

describeDocker('exchange with the Docker engine', () => {
  const target = engineTarget(dockerHost);

  it('gets the engine version, a container by name, and the engine\u2019s own 404', async () => {
    const version = await exchange(target, 'GET', '/version');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body.toString())).toHaveProperty('ApiVersion');
    const name = uniqueName('exchange');
    const created = await exchange(target, 'POST', `/containers/create?name=${name}`, JSON.stringify({ Image: testImage, Cmd: ['true'] }));
    expect(created.status).toBe(201);
    const id = JSON.parse(created.body.toString()).Id as string;
    try {
      const engine = new Engine(dockerHost);
      expect((await engine.inspectContainer(name))?.Id).toBe(id);
      expect((await engine.inspectContainer(id.slice(0, 12)))?.Name).toBe(`/${name}`);
      expect(await engine.inspectContainer(`${name}-none`)).toBeNull();
      const listed = await engine.listContainers({ all: true, filters: { id: [id] } });
      expect(listed.map((c) => c.Id)).toEqual([id]);
      const missing = await exchange(target, 'GET', `/containers/${name}-none/json`);
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body.toString()).message).toMatch(/No such container/);
    } finally {
      await exchange(target, 'DELETE', `/containers/${id}?force=1`);
    }
  });
});
