import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi, dockerHost, testImage, uniqueName } from '../../../../test-support/docker.js';
import { eventsFor, makeSandbox, readLogged, type Sandbox, startWatcher, stopWatcher, typesById, waitFor, watchBin } from './helpers.js';

const LABEL = 'ds01.test.watch-resume';
const LIFE = ['container.create', 'container.start', 'container.stop', 'container.remove'];

async function api<T = unknown>(method: string, p: string, body?: unknown): Promise<T> {
  const r = await dockerApi<T>(method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json as T;
}

async function createContainer(labels: Record<string, string> = {}): Promise<string> {
  const r = await api<{ Id: string }>('POST', `/containers/create?name=${uniqueName('watch-resume')}`, {
    Image: testImage,
    Cmd: ['sleep', '300'],
    Labels: { [LABEL]: '1', ...labels },
  });
  return r.Id;
}

function readState(box: Sandbox): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(box.stateFile, 'utf8')) as Record<string, unknown>;
}

const leftovers: string[] = [];
afterAll(async () => {
  for (const id of leftovers) await dockerApi('DELETE', `/containers/${id}?force=1`);
});

describeDocker('ds01-docker-watch resuming', () => {
  it('loses none and repeats none when SIGKILLed and restarted in the middle of 100 container operations', async () => {
    const box = makeSandbox();
    let watcher = await startWatcher(box);
    const ids: string[] = [];
    let ops = 0;
    let killedAt = -1;
    const burst = (async () => {
      for (let i = 0; i < 25; i += 1) {
        const id = await createContainer(i % 2 ? { 'ds01.user': 'alice' } : {});
        ids.push(id);
        leftovers.push(id);
        ops += 1;
        await api('POST', `/containers/${id}/start`);
        ops += 1;
        await api('POST', `/containers/${id}/kill`);
        ops += 1;
        await api('DELETE', `/containers/${id}`);
        ops += 1;
      }
    })();
    await waitFor('40 operations', () => ops >= 40, 60_000);
    watcher.proc.kill('SIGKILL');
    killedAt = ops;
    await watcher.proc;
    watcher = await startWatcher(box);
    await burst;
    expect(killedAt).toBeLessThan(100);
    const wanted = new Set(ids);
    await waitFor(
      'every container removed in the log',
      () => [...typesById(box.eventsFile, wanted).values()].filter((t) => t.includes('container.remove')).length === 25,
      60_000,
    );
    expect(await stopWatcher(watcher)).toBe(0);
    const seen = typesById(box.eventsFile, wanted);
    for (const id of ids) expect(seen.get(id), id).toEqual(LIFE);
    for (const [i, id] of ids.entries()) {
      const users = eventsFor(box.eventsFile, id).map((e) => e.user);
      expect(users).toEqual(LIFE.map(() => (i % 2 ? 'alice' : undefined)));
    }
    expect(readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap')).toEqual([]);
  }, 180_000);

  it('after a stop, events it logged but had not recorded are not logged again, and events it had not logged are', async () => {
    const box = makeSandbox();
    const watcher = await startWatcher(box);
    const before = await createContainer();
    leftovers.push(before);
    await waitFor('the first create', () => eventsFor(box.eventsFile, before).length === 1);
    expect(await stopWatcher(watcher)).toBe(0);
    const mark = fs.statSync(box.eventsFile).size;
    const saved = readState(box);

    // The previous process logged A's create but died before recording it; B's create never reached the log.
    const logged = await createContainer();
    const unlogged = await createContainer();
    leftovers.push(logged, unlogged);
    const w2 = await startWatcher(box);
    await waitFor('both creates', () => eventsFor(box.eventsFile, unlogged).length === 1 && eventsFor(box.eventsFile, logged).length === 1);
    expect(await stopWatcher(w2)).toBe(0);
    const lines = fs.readFileSync(box.eventsFile, 'utf8').split('\n').filter(Boolean);
    const kept = lines.filter((l) => !l.includes(unlogged));
    const loggedLine = kept.find((l) => l.includes(logged)) as string;
    const previousPid = (JSON.parse(loggedLine) as { pid: number }).pid;
    fs.writeFileSync(box.eventsFile, `${kept.join('\n')}\n`);
    fs.writeFileSync(box.stateFile, JSON.stringify({ ...saved, pid: previousPid, log: { ...(saved.log as object), offset: mark } }));

    const w3 = await startWatcher(box);
    await waitFor('the unlogged create', () => eventsFor(box.eventsFile, unlogged).length === 1);
    const probe = await createContainer(); // a later event: once it is in, the replay is done
    leftovers.push(probe);
    await waitFor('a later create', () => eventsFor(box.eventsFile, probe).length === 1);
    expect(await stopWatcher(w3)).toBe(0);
    expect(eventsFor(box.eventsFile, logged).map((e) => e.event_type)).toEqual(['container.create']);
    expect(eventsFor(box.eventsFile, unlogged).map((e) => e.event_type)).toEqual(['container.create']);
    expect(eventsFor(box.eventsFile, before).map((e) => e.event_type)).toEqual(['container.create']);
  });

  it('logs one monitor.gap when the last event seen is no longer in Docker history, and only once', async () => {
    const box = makeSandbox();
    const lastSeen = BigInt(Date.now() - 3_600_000) * 1_000_000n;
    fs.mkdirSync(box.stateDir, { recursive: true });
    fs.writeFileSync(
      box.stateFile,
      JSON.stringify({
        version: 1,
        since_nano: (lastSeen - 2_000_000_000n).toString(),
        anchor: `${lastSeen}:die:0123456789abcdef`,
        recent: [`${lastSeen}:die:0123456789abcdef`],
        log: null,
        pid: 1,
        updated_at: new Date().toISOString(),
      }),
    );
    // Which reason depends on what this daemon still holds: all it has is newer than the anchor.
    const held = await dockerApi('GET', `/events?since=${Number(lastSeen / 1_000_000_000n)}&until=${Math.floor(Date.now() / 1000)}`);
    // Other test files share the daemon and keep adding events, so its history can only fill up between
    // this probe and the watcher's own check: full now means full then; not full now allows either.
    const full = held.text.split('\n').filter(Boolean).length >= 256;
    const reasons = full ? ['docker_history_exceeded'] : ['docker_restarted', 'docker_history_exceeded'];
    const w = await startWatcher(box);
    const gaps = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.details).toMatchObject({ from: new Date(Number(lastSeen / 1_000_000n)).toISOString() });
    expect(reasons).toContain(gaps[0]?.details?.reason);
    expect(Date.parse(gaps[0]?.details?.to as string)).toBeGreaterThan(Number(lastSeen / 1_000_000n));
    expect(await stopWatcher(w)).toBe(0);
    const again = await startWatcher(box);
    expect(await stopWatcher(again)).toBe(0);
    // The same gap is never logged twice. Other test files share this daemon, and if they pushed more than
    // its 256 events of history between the two runs, the restart rightly reports that newer gap too.
    const after = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap');
    expect(after.filter((e) => e.details?.from === gaps[0]?.details?.from)).toHaveLength(1);
    for (const later of after.slice(1)) {
      expect(later.details?.reason).toBe('docker_history_exceeded');
      expect(Date.parse(later.details?.from as string)).toBeGreaterThanOrEqual(Date.parse(gaps[0]?.details?.to as string) - 1000);
    }
  });

  it('moves an unreadable state file aside and logs one monitor.gap from its last write', async () => {
    const box = makeSandbox();
    fs.mkdirSync(box.stateDir, { recursive: true });
    fs.writeFileSync(box.stateFile, '{"version":1,"since_na');
    const lastWrite = new Date(Date.now() - 600_000);
    fs.utimesSync(box.stateFile, lastWrite, lastWrite);
    const w = await startWatcher(box);
    expect(await stopWatcher(w)).toBe(0);
    const gaps = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.details).toMatchObject({ from: lastWrite.toISOString(), reason: 'state_unreadable' });
    expect(fs.readdirSync(box.stateDir).filter((f) => f.startsWith('docker-watch.json.corrupt-'))).toHaveLength(1);
    expect(readState(box).version).toBe(1);
  });

  it('logs one monitor.gap when more events happened while it was down than Docker keeps', async () => {
    const box = makeSandbox();
    const id = await createContainer();
    leftovers.push(id);
    const w = await startWatcher(box);
    await api('POST', `/containers/${id}/rename?name=${uniqueName('watch-gap')}`);
    await waitFor('the rename', () => eventsFor(box.eventsFile, id).some((e) => e.event_type === 'container.rename'));
    expect(await stopWatcher(w)).toBe(0);
    for (let i = 0; i < 270; i += 1) await api('POST', `/containers/${id}/rename?name=${uniqueName('watch-gap')}`);
    const w2 = await startWatcher(box);
    expect(await stopWatcher(w2)).toBe(0);
    const gaps = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.details?.reason).toBe('docker_history_exceeded');
  }, 120_000);
});

describeDocker('ds01-docker-watch and a daemon that goes away', () => {
  it('reconnects with backoff and loses nothing that happened while the socket was gone', async () => {
    if (!dockerHost.startsWith('unix://')) throw new Error('this test needs a unix-socket DOCKER_HOST');
    const upstream = dockerHost.slice('unix://'.length);
    const box = makeSandbox();
    const socket = path.join(box.dir, 'proxy.sock');
    // A socket in front of the daemon that can vanish and come back, as docker.sock does when dockerd restarts.
    const open = new Set<net.Socket>();
    const listen = () =>
      new Promise<net.Server>((resolve) => {
        const server = net.createServer((client) => {
          const up = net.connect(upstream);
          open.add(client).add(up);
          client.pipe(up).pipe(client);
          const close = () => {
            client.destroy();
            up.destroy();
          };
          client.on('error', close).on('close', close);
          up.on('error', close).on('close', close);
        });
        server.listen(socket, () => resolve(server));
      });
    let server = await listen();
    box.env.DOCKER_HOST = `unix://${socket}`;
    const w = await startWatcher(box, ['--max-backoff', '1']);
    const first = await createContainer();
    leftovers.push(first);
    await waitFor('the first create', () => eventsFor(box.eventsFile, first).length === 1);

    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of open) s.destroy(); // close() waits for open connections
    await closed;
    const whileDown = await createContainer();
    leftovers.push(whileDown);
    server = await listen();
    await waitFor('the create made while the socket was gone', () => eventsFor(box.eventsFile, whileDown).length === 1, 30_000);
    expect(await stopWatcher(w)).toBe(0);
    const closedAgain = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of open) s.destroy();
    await closedAgain;
    const starts = readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.start');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.at(-1)?.details?.reconnects).toBeGreaterThanOrEqual(1);
    expect(eventsFor(box.eventsFile, first)).toHaveLength(1);
    expect(readLogged(box.eventsFile).filter((e) => e.event_type === 'monitor.gap')).toEqual([]);
  }, 60_000);
});

describe('ds01-docker-watch state file without a daemon', () => {
  it('leaves an unreadable state file alone when it cannot go on', async () => {
    const box = makeSandbox({ DOCKER_HOST: 'unix:///nonexistent/ds01.sock' });
    fs.mkdirSync(box.stateDir, { recursive: true });
    fs.writeFileSync(box.stateFile, '{"version":1,"since_na');
    const r = await execa(process.execPath, [watchBin], { env: box.env, reject: false });
    expect(r.exitCode).toBe(4);
    expect(fs.readFileSync(box.stateFile, 'utf8')).toBe('{"version":1,"since_na');
  });
});
