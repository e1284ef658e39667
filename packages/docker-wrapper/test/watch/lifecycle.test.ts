import fs from 'node:fs';
import { markRemoval } from '@ds01/events-core/jobs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi, testImage, uniqueName } from '../../../../test-support/docker.js';
import {
  eventsFor,
  makeSandbox,
  readLogged,
  type Sandbox,
  startWatcher,
  stopWatcher,
  typesById,
  type WatcherProcess,
  waitFor,
  watchBin,
} from './helpers.js';

const realDocker = process.env.DS01_REAL_DOCKER || '/usr/bin/docker';
const LABEL = 'ds01.test.watch-lifecycle';

async function docker(...args: string[]): Promise<string> {
  const r = await execa(realDocker, args, { env: process.env });
  return r.stdout.trim();
}

describeDocker('ds01-docker-watch on the real engine', () => {
  let box: Sandbox;
  let watcher: WatcherProcess;
  const created: string[] = [];

  beforeAll(async () => {
    box = makeSandbox();
    watcher = await startWatcher(box);
  });

  afterAll(async () => {
    if (created.length > 0) await execa(realDocker, ['rm', '-f', ...created], { reject: false });
    expect(await stopWatcher(watcher)).toBe(0);
  });

  it('logs containers created with the real client and through the API, with owner and GPU request, but not managed ones twice', async () => {
    const byClient = await docker('create', '--label', LABEL, '--label', 'ds01.user=alice', '--gpus', 'all', testImage, 'sleep', '60');
    created.push(byClient);
    const apiName = uniqueName('watch-api');
    const api = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${apiName}`, {
      Image: testImage,
      Cmd: ['sleep', '60'],
      Labels: { [LABEL]: '1' },
      HostConfig: { DeviceRequests: [{ Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] }] },
    });
    expect(api.status).toBe(201);
    const byApi = api.json?.Id as string;
    created.push(byApi);
    const managed = await docker(
      'create',
      '--label',
      LABEL,
      '--label',
      'ds01.managed=true',
      '--label',
      'ds01.user=bob',
      testImage,
      'sleep',
      '60',
    );
    created.push(managed);
    await docker('start', managed);

    const clientCreate = await waitFor('create of the client container', () =>
      eventsFor(box.eventsFile, byClient).find((e) => e.event_type === 'container.create'),
    );
    expect(clientCreate.user).toBe('alice');
    expect(clientCreate.source).toBe('ds01-docker-watch');
    expect(clientCreate.details).toMatchObject({ container_id: byClient, managed: false, gpu_request: 'all', image: testImage });

    const apiCreate = await waitFor('create of the API container', () =>
      eventsFor(box.eventsFile, byApi).find((e) => e.event_type === 'container.create'),
    );
    expect(apiCreate.user).toBeUndefined(); // no owner label: left empty, never guessed
    expect(apiCreate.details).toMatchObject({ container: apiName, managed: false, gpu_request: '2' });

    const managedStart = await waitFor('start of the managed container', () =>
      eventsFor(box.eventsFile, managed).find((e) => e.event_type === 'container.start'),
    );
    expect(managedStart.user).toBe('bob');
    expect(eventsFor(box.eventsFile, managed).map((e) => e.event_type)).toEqual(['container.start']);
  });

  it('gives exactly one event for each start, rename, pause, unpause, stop, kill and rm', async () => {
    const name = uniqueName('watch-life');
    const id = await docker('run', '-d', '--label', LABEL, '--label', 'ds01.user=carol', '--name', name, testImage, 'sleep', '300');
    created.push(id);
    await docker('rename', name, `${name}-b`);
    await docker('pause', id);
    await docker('unpause', id);
    await docker('stop', '-t', '1', id); // sleep ignores SIGTERM as pid 1: killed after the grace
    await docker('start', id);
    await docker('kill', id);
    await docker('rm', id);
    const expected = [
      'container.create',
      'container.start',
      'container.rename',
      'container.pause',
      'container.unpause',
      'container.stop',
      'container.start',
      'container.stop',
      'container.remove',
    ];
    await waitFor('the remove event', () => eventsFor(box.eventsFile, id).some((e) => e.event_type === 'container.remove'));
    const events = eventsFor(box.eventsFile, id);
    expect(events.map((e) => e.event_type)).toEqual(expected);
    expect(events.every((e) => e.user === 'carol')).toBe(true);
    const rename = events.find((e) => e.event_type === 'container.rename');
    expect(rename?.details).toMatchObject({ container: `${name}-b`, old_name: name });
    const stops = events.filter((e) => e.event_type === 'container.stop');
    for (const stop of stops) {
      expect(stop.details).toMatchObject({ exit_code: 137, signal: 'SIGKILL', oom_killed: false, container: `${name}-b` });
      expect(typeof stop.details?.ran_for_s).toBe('number');
    }
    expect(events.find((e) => e.event_type === 'container.remove')?.details?.container).toBe(`${name}-b`);
  });

  it('leaves a removal that a maintenance job marked to that job, and logs the unmarked one', async () => {
    const marked = await docker('create', '--label', LABEL, '--label', 'ds01.user=carol', testImage, 'true');
    const plain = await docker('create', '--label', LABEL, '--label', 'ds01.user=carol', testImage, 'true');
    created.push(marked, plain);
    markRemoval(marked, 'ds01-cleanup', box.env);
    await docker('rm', marked);
    await docker('rm', plain);
    // Docker reports the destroys in order, so once the second is logged the first was handled.
    await waitFor('the unmarked remove event', () => eventsFor(box.eventsFile, plain).some((e) => e.event_type === 'container.remove'));
    expect(eventsFor(box.eventsFile, marked).map((e) => e.event_type)).toEqual(['container.create']);
    expect(eventsFor(box.eventsFile, plain).map((e) => e.event_type)).toEqual(['container.create', 'container.remove']);
    expect(fs.readdirSync(`${box.stateDir}/removal-marks`)).not.toContain(marked);
  });

  it('logs an OOM kill once, and the stop that follows it as OOM-killed', async () => {
    const id = await docker(
      'run',
      '-d',
      '--label',
      LABEL,
      '--memory',
      '8m',
      '--memory-swap',
      '8m',
      testImage,
      'sh',
      '-c',
      'x=a; while true; do x=$x$x; done',
    );
    created.push(id);
    await waitFor('the stop event', () => eventsFor(box.eventsFile, id).some((e) => e.event_type === 'container.stop'));
    await docker('rm', id);
    await waitFor('the remove event', () => eventsFor(box.eventsFile, id).some((e) => e.event_type === 'container.remove'));
    const events = eventsFor(box.eventsFile, id);
    expect(events.map((e) => e.event_type)).toEqual([
      'container.create',
      'container.start',
      'container.oom',
      'container.stop',
      'container.remove',
    ]);
    expect(events[2]?.details?.memory_limit).toBe('8m');
    expect(events[3]?.details).toMatchObject({ oom_killed: true, exit_code: 137, signal: 'SIGKILL' });
  });

  it('records a plain exit code with no signal, and how long the container ran', async () => {
    const id = await docker('run', '-d', '--label', LABEL, testImage, 'sh', '-c', 'sleep 1; exit 3');
    created.push(id);
    const stop = await waitFor('the stop event', () => eventsFor(box.eventsFile, id).find((e) => e.event_type === 'container.stop'));
    expect(stop.details).toMatchObject({ exit_code: 3, signal: null, oom_killed: false });
    expect(stop.details?.ran_for_s as number).toBeGreaterThanOrEqual(1);
  });

  it('runs `ds01-gpu reconcile` when a GPU container stops and when it is removed', async () => {
    const calls = () => (fs.existsSync(box.gpuCalls) ? fs.readFileSync(box.gpuCalls, 'utf8').split('\n').filter(Boolean) : []);
    const plain = await docker('run', '-d', '--label', LABEL, testImage, 'sleep', '300');
    created.push(plain);
    await docker('kill', plain);
    await waitFor('the plain stop', () => eventsFor(box.eventsFile, plain).some((e) => e.event_type === 'container.stop'));
    const gpu = await docker('run', '-d', '--label', LABEL, '--gpus', 'all', testImage, 'sleep', '300');
    created.push(gpu);
    await docker('kill', gpu);
    await waitFor('a reconcile after the GPU container stopped', () => calls().length >= 1);
    expect(calls()[0]).toBe('reconcile --json');
    const afterStop = calls().length;
    await docker('rm', gpu);
    await waitFor('a reconcile after the GPU container was removed', () => calls().length > afterStop);
    expect(typesById(box.eventsFile, new Set([gpu])).get(gpu)).toEqual([
      'container.create',
      'container.start',
      'container.stop',
      'container.remove',
    ]);
  });

  it('refuses to run twice on the same state (exit 1)', async () => {
    const second = await execa(process.execPath, [watchBin], { env: box.env, reject: false });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/already running/);
  });
});

describe('ds01-docker-watch without a daemon', () => {
  it('exits 4 with a message saying what to do, and writes no state', async () => {
    const box = makeSandbox({ DOCKER_HOST: 'unix:///nonexistent/ds01-test-docker.sock' });
    const r = await execa(process.execPath, [watchBin], { env: box.env, reject: false });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/cannot reach the Docker daemon at unix:\/\/\/nonexistent\/ds01-test-docker.sock/);
    expect(r.stderr).toMatch(/--wait/);
    expect(fs.existsSync(box.stateFile)).toBe(false);
    expect(readLogged(box.eventsFile)).toEqual([]);
  });

  it('with --wait keeps waiting until stopped, then exits 0', async () => {
    const box = makeSandbox({ DOCKER_HOST: 'unix:///nonexistent/ds01-test-docker.sock' });
    const proc = execa(process.execPath, [watchBin, '--wait'], { env: box.env, reject: false, all: true });
    let output = '';
    proc.all?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await waitFor('the waiting message', () => output.includes('waiting'));
    proc.kill('SIGTERM');
    const r = await proc;
    expect(r.exitCode).toBe(0);
  });

  it('rejects a bad flag value with exit 2 naming the flag', async () => {
    const r = await execa(process.execPath, [watchBin, 'run', '--max-backoff', 'soon'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--max-backoff/);
  });
});
