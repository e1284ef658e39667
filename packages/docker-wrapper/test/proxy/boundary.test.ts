import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi, dockerHost, removeContainersByLabel, testImage, uniqueName } from '../../../../test-support/docker.js';
import {
  apiContainer,
  expectNothingInherited,
  inspectContainer,
  labelledImage,
  PRIVILEGED_IMAGE_LABELS,
  removeImage,
  TEST_LABEL,
} from '../helpers.js';
import { apiAs, connectAs, dockerAs, type ProxyBox, proxyForAlice, startProxy } from './helpers.js';

const LABEL_KEY = TEST_LABEL.split('=')[0]!;

describeDocker('the Engine API proxy as the real user alice', () => {
  let box: ProxyBox;
  let bobName: string;
  let bobId: string;
  let aliceName: string;

  beforeAll(async () => {
    // The matrix counts every refusal's event: no flood limit within its minute (tested on its own below).
    box = await startProxy(['alice', 'bob', 'carol', 'dana'], undefined, ['--denials-per-minute', '10000']);
    bobName = uniqueName('bob-victim');
    bobId = await apiContainer(bobName, { 'ds01.user': 'bob', 'ds01.managed': 'true' });
    aliceName = uniqueName('alice-own');
    const r = await dockerAs(box, 'alice', [
      'run',
      '-d',
      '--name',
      aliceName,
      '-l',
      TEST_LABEL,
      '--network',
      'none',
      testImage,
      'sleep',
      '300',
    ]);
    if (r.exitCode !== 0) throw new Error(`alice's own run -d failed: ${r.exitCode} ${r.stdout} ${r.stderr} ${r.message}\n${box.stderr()}`);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await box?.stop();
  });

  const bobStillRuns = async () => expect((await inspectContainer(bobId))?.State.Running).toBe(true);
  const denied = (rule: string) =>
    box
      .readEvents()
      .filter((e) => e.event_type === 'auth.denied' && e.user === 'alice' && e.details.rule === rule && e.source === 'ds01-docker-proxy');

  it('each user has a socket in their own 0700 directory; alice cannot open bob’s, nor a root-only daemon socket', async () => {
    const st = fs.statSync(path.dirname(box.socket('alice')));
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(fs.statSync('/home/alice').uid);
    expect(await connectAs(box, 'alice', box.socket('alice'))).toBe('connected');
    expect(await connectAs(box, 'alice', box.socket('bob'))).toBe('EACCES');
    // The site makes the daemon's socket root:root 0660 (docker.socket drop-in); let alice reach its directory to show the socket itself refuses her.
    const sock = dockerHost.replace(/^unix:\/\//, '');
    const dirMode = fs.statSync(path.dirname(sock)).mode & 0o777;
    const before = fs.statSync(sock);
    fs.chmodSync(path.dirname(sock), dirMode | 0o011);
    try {
      fs.chownSync(sock, 0, 0);
      fs.chmodSync(sock, 0o660);
      expect(await connectAs(box, 'alice', sock)).toBe('EACCES');
    } finally {
      fs.chownSync(sock, before.uid, before.gid);
      fs.chmodSync(sock, before.mode & 0o777);
      fs.chmodSync(path.dirname(sock), dirMode);
    }
  });

  it('her own container: forced labels, slice and limits; exec, logs, attach -i with stdin, rm work through the proxy', async () => {
    const c = (await inspectContainer(aliceName))!;
    expect(c.Config.Labels['ds01.user']).toBe('alice');
    expect(c.Config.Labels['ds01.managed']).toBe('true');
    expect(c.Config.Labels['ds01.container_type']).toBe('docker');
    expect(c.HostConfig.CgroupParent).toBe('ds01-student-alice.slice');
    expect(c.HostConfig.Memory).toBe(1024 ** 3);
    expect(c.HostConfig.NanoCpus).toBe(1e9);
    expect(c.HostConfig.PidsLimit).toBe(256);
    expect(c.Config.Env).toContain('NVIDIA_VISIBLE_DEVICES=void');

    const exec = await dockerAs(box, 'alice', ['exec', aliceName, 'sh', '-c', 'echo exec-$((20+22))']);
    expect(exec.exitCode, String(exec.stderr)).toBe(0);
    expect(String(exec.stdout).trim()).toBe('exec-42');
    const execIn = await dockerAs(box, 'alice', ['exec', '-i', aliceName, 'sh', '-c', 'read l; echo "in-$l"'], 'piped\n');
    expect(String(execIn.stdout).trim()).toBe('in-piped');

    const echo = uniqueName('alice-attach');
    const run = await dockerAs(
      box,
      'alice',
      ['run', '-i', '--name', echo, '-l', TEST_LABEL, '--network', 'none', testImage, 'sh', '-c', 'read l; echo "GOT-$l"; exit 3'],
      'hello\n',
    );
    expect(String(run.stdout).trim()).toBe('GOT-hello');
    expect(run.exitCode).toBe(3);
    const logs = await dockerAs(box, 'alice', ['logs', echo]);
    expect(String(logs.stdout).trim()).toBe('GOT-hello');
    const rm = await dockerAs(box, 'alice', ['rm', echo]);
    expect(rm.exitCode, String(rm.stderr)).toBe(0);
    expect(await inspectContainer(echo)).toBeNull();
    expect(box.readEvents().some((e) => e.event_type === 'container.create' && e.user === 'alice' && e.details.container === echo)).toBe(
      true,
    );
  });

  it('a Dockerfile cannot exempt her container from the maintenance jobs nor claim GPUs for it (inherited ds01 labels blanked)', async () => {
    const image = await labelledImage(PRIVILEGED_IMAGE_LABELS);
    const name = uniqueName('alice-inherit');
    try {
      const r = await dockerAs(box, 'alice', ['run', '-d', '--name', name, '-l', TEST_LABEL, '--network', 'none', image]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      await expectNothingInherited(name, 'alice');
    } finally {
      await dockerApi('DELETE', `/containers/${name}?force=1`);
      await removeImage(image);
    }
  });

  it('ps, the raw container list and system df show only hers; events only hers', async () => {
    const ps = await dockerAs(box, 'alice', ['ps', '-a', '--format', '{{.Names}}']);
    const names = String(ps.stdout).split('\n');
    expect(names).toContain(aliceName);
    expect(names).not.toContain(bobName);
    const raw = await apiAs(
      box,
      'alice',
      'GET',
      `/v1.41/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [LABEL_KEY] }))}`,
    );
    const list = raw.json as { Labels: Record<string, string> }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((c) => c.Labels['ds01.user'] === 'alice')).toBe(true);
    const df = await apiAs(box, 'alice', 'GET', '/v1.41/system/df');
    const dfContainers = (df.json as { Containers: { Names: string[]; Labels: Record<string, string> }[] }).Containers;
    expect(dfContainers.map((c) => c.Names[0])).toContain(`/${aliceName}`);
    expect(dfContainers.every((c) => c.Labels['ds01.user'] === 'alice')).toBe(true);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await apiAs(box, 'alice', 'GET', `/events?since=0&until=${until}`);
    const lines = ev.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Actor: { Attributes: Record<string, string> } });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.Actor.Attributes['ds01.user'] === 'alice')).toBe(true);
  });

  const cliRefusals: [string, string, (victim: string) => string[]][] = [
    ['run --privileged', 'privileged', () => ['--privileged']],
    ['-v /:/host', 'bind-mount', () => ['-v', '/:/host']],
    ['--mount type=bind,/etc', 'bind-mount', () => ['--mount', 'type=bind,source=/etc,target=/x']],
    ['--pid=host', 'host-namespace', () => ['--pid=host']],
    ['--cap-add SYS_ADMIN', 'cap-add', () => ['--cap-add', 'SYS_ADMIN']],
    ['--device /dev/null', 'device', () => ['--device', '/dev/null']],
    ['--label ds01.user=bob', 'ds01-label', () => ['--label', 'ds01.user=bob']],
    ['--cgroup-parent=/', 'cgroup-parent', () => ['--cgroup-parent=/']],
    ['-e NVIDIA_VISIBLE_DEVICES=all', 'gpu-env', () => ['-e', 'NVIDIA_VISIBLE_DEVICES=all']],
    ['--security-opt systempaths=unconfined', 'security-opt', () => ['--security-opt', 'systempaths=unconfined']],
    ['--volumes-from bob’s', 'not-owner', (v) => ['--volumes-from', v]],
    ['--network container:bob’s', 'not-owner', (v) => ['--network', `container:${v}`]],
    ['--memory 4g (above 1g)', 'limits', () => ['--memory', '4g']],
  ];

  it.each(cliRefusals)('docker run %s is refused (%s); no container, bob’s still runs', async (_what, rule, flags) => {
    const name = uniqueName('alice-escape');
    const before = denied(rule).length;
    const r = await dockerAs(box, 'alice', ['run', '-d', '--name', name, '-l', TEST_LABEL, ...flags(bobName), testImage, 'sleep', '60']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toContain(`ds01: ${rule}:`);
    expect(await inspectContainer(name)).toBeNull();
    await bobStillRuns();
    expect(denied(rule).length).toBe(before + 1);
  });

  const onBob: [string, (v: string) => string[]][] = [
    ['exec', (v) => ['exec', v, 'true']],
    ['logs', (v) => ['logs', v]],
    ['inspect', (v) => ['inspect', '--type', 'container', v]],
    ['stop', (v) => ['stop', '-t', '0', v]],
    ['kill', (v) => ['kill', v]],
    ['rm -f', (v) => ['rm', '-f', v]],
    ['attach', (v) => ['attach', '--no-stdin', v]],
    ['cp', (v) => ['cp', `${v}:/etc/hostname`, '-']],
    ['commit', (v) => ['commit', v]],
    ['rename', (v) => ['rename', v, 'taken']],
    ['update --cpus 1', (v) => ['update', '--cpus', '1', v]],
  ];

  it.each(onBob)('docker %s on bob’s container (by name and by id prefix) is refused (not-owner)', async (_what, args) => {
    const before = denied('not-owner').length;
    for (const ref of [bobName, bobId.slice(0, 12)]) {
      const r = await dockerAs(box, 'alice', args(ref));
      expect(r.exitCode).not.toBe(0);
      expect(String(r.stderr)).toContain('ds01: not-owner:');
    }
    await bobStillRuns();
    expect((await inspectContainer(bobId))!.Name).toBe(`/${bobName}`);
    // The CLI may ask twice per command (attach inspects first); every refusal names bob's container.
    const events = denied('not-owner').slice(before);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.details.target === bobName)).toBe(true);
  });

  it('raw API: version prefixes, forged labels, masked paths, another user’s container, swarm and unknown endpoints', async () => {
    const name = uniqueName('alice-raw');
    const forged = await apiAs(box, 'alice', 'POST', `/v1.41/containers/create?name=${name}`, {
      Image: testImage,
      Labels: { 'ds01.user': 'bob', [LABEL_KEY]: '1' },
    });
    expect(forged.status).toBe(403);
    expect((forged.json as { message: string }).message).toMatch(/^ds01: ds01-label: /);
    const masked = await apiAs(box, 'alice', 'POST', `/containers/create?name=${name}`, {
      Image: testImage,
      Labels: { [LABEL_KEY]: '1' },
      HostConfig: { MaskedPaths: [], ReadonlyPaths: [] },
    });
    expect(masked.status).toBe(403);
    expect(await inspectContainer(name)).toBeNull();
    // The host network named by its id (not the word host), at create and on connect.
    const hostNet = (await dockerApi<{ Id: string }>('GET', '/networks/host')).json!.Id;
    const byId = await apiAs(box, 'alice', 'POST', `/containers/create?name=${name}`, {
      Image: testImage,
      Labels: { [LABEL_KEY]: '1' },
      HostConfig: { NetworkMode: hostNet.slice(0, 12) },
    });
    expect((byId.json as { message: string }).message).toMatch(/^ds01: host-namespace: /);
    const connect = await apiAs(box, 'alice', 'POST', `/networks/${hostNet}/connect`, { Container: aliceName });
    expect((connect.json as { message: string }).message).toMatch(/^ds01: host-namespace: /);
    const inspect = await apiAs(box, 'alice', 'GET', `/v1.41/containers/${bobId}/json`);
    expect(inspect.status).toBe(403);
    const nosuch = await apiAs(box, 'alice', 'GET', '/v1.41/containers/no-such-container-here/json');
    expect(nosuch.status).toBe(404);
    expect((await apiAs(box, 'alice', 'GET', '/swarm')).status).toBe(403);
    expect((await apiAs(box, 'alice', 'GET', '/v1.41/plugins')).status).toBe(403);
    expect((await apiAs(box, 'alice', 'POST', '/volumes/prune')).status).toBe(403);
    expect((await apiAs(box, 'alice', 'GET', '/no/such/endpoint')).status).toBe(403);
    expect((await apiAs(box, 'alice', 'GET', '/_ping')).status).toBe(200);
    // An encoded slash would be checked as one container and served by the engine as another.
    const encoded = await apiAs(box, 'alice', 'GET', `/v1.41/containers/${bobName}%2Fjson`);
    expect(encoded.status).toBe(403);
    expect(encoded.text).not.toContain('"Id"');

    // A plain create through the raw API: ds01's labels, slice and limits forced; an explicit 0 memory is not "unlimited".
    const ok = await apiAs(box, 'alice', 'POST', `/v1.41/containers/create?name=${name}`, {
      Image: testImage,
      Cmd: ['true'],
      Labels: { [LABEL_KEY]: '1', 'devcontainer.local_folder': '/home/bob/x' },
      HostConfig: { Memory: 0, NetworkMode: 'none' },
    });
    expect(ok.status, ok.text).toBe(201);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels['ds01.user']).toBe('alice');
    expect(c.Config.Labels['ds01.container_type']).toBe('devcontainer');
    expect(c.HostConfig.Memory).toBe(1024 ** 3);
    expect(c.HostConfig.CgroupParent).toBe('ds01-student-alice.slice');
    // A client that sends `{}` with start (dockerode does) gets its container started; a HostConfig there is refused.
    expect((await apiAs(box, 'alice', 'POST', `/containers/${name}/start`, { HostConfig: { Privileged: true } })).status).toBe(403);
    const started = await apiAs(box, 'alice', 'POST', `/containers/${name}/start`, {});
    expect(started.status, started.text).toBe(204);
    // Raising her own limits afterwards is refused.
    const up = await apiAs(box, 'alice', 'POST', `/containers/${name}/update`, { Memory: 8 * 1024 ** 3 });
    expect(up.status).toBe(403);
    expect((await inspectContainer(name))!.HostConfig.Memory).toBe(1024 ** 3);
  });

  it('a hijack the engine does not switch (exec started detached) is closed after its answer: nothing pipelined behind it reaches the engine', async () => {
    const exec = await apiAs(box, 'alice', 'POST', `/v1.41/containers/${aliceName}/exec`, { Cmd: ['true'] });
    expect(exec.status, exec.text).toBe(201);
    const id = (exec.json as { Id: string }).Id;
    const smuggled = uniqueName('smuggled');
    const start = JSON.stringify({ Detach: true, Tty: false });
    const create = JSON.stringify({ Image: testImage, Labels: { [LABEL_KEY]: '1' }, HostConfig: { Privileged: true } });
    const raw =
      `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${start.length}\r\n\r\n${start}` +
      `POST /v1.41/containers/create?name=${smuggled} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${create.length}\r\n\r\n${create}`;
    const answer = await new Promise<string>((resolve, reject) => {
      let out = '';
      const sock = net.connect(box.socket('alice'), () => sock.write(raw));
      sock.on('data', (c) => {
        out += String(c);
      });
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
      sock.setTimeout(20_000, () => reject(new Error(`no end; got: ${out}`)));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
    expect(await inspectContainer(smuggled)).toBeNull();
  });

  it('exec start without Upgrade (the raw-stream answer) comes through', async () => {
    const exec = await apiAs(box, 'alice', 'POST', `/v1.41/containers/${aliceName}/exec`, {
      Cmd: ['echo', 'plain-hijack'],
      AttachStdout: true,
      AttachStderr: true,
    });
    const id = (exec.json as { Id: string }).Id;
    const r = await apiAs(box, 'alice', 'POST', `/v1.41/exec/${id}/start`, { Detach: false, Tty: true });
    expect(r.text).toContain('plain-hijack');
  });

  it('an admin’s socket passes everything; carol at max_containers_per_user 0 cannot create', async () => {
    const r = await dockerAs(box, 'dana', ['inspect', '--type', 'container', '--format', '{{index .Config.Labels "ds01.user"}}', bobName]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout).trim()).toBe('bob');
    const carol = await dockerAs(box, 'carol', ['create', '-l', TEST_LABEL, testImage, 'true']);
    expect(carol.exitCode).not.toBe(0);
    expect(String(carol.stderr)).toContain('ds01: max-containers:');
  });

  it('a container an admin creates from alice’s image without an owner is the admin’s, not alice’s; an owner the admin names is kept', async () => {
    const image = await labelledImage({ 'ds01.user': 'alice' });
    const made: string[] = [];
    try {
      const plain = await apiAs(box, 'dana', 'POST', '/v1.41/containers/create', {
        Image: image,
        Cmd: ['true'],
        Labels: { [LABEL_KEY]: '1' },
      });
      expect(plain.status, plain.text).toBe(201);
      const named = await apiAs(box, 'dana', 'POST', '/v1.41/containers/create', {
        Image: image,
        Cmd: ['true'],
        Labels: { [LABEL_KEY]: '1', 'ds01.user': 'svc-backup' },
      });
      expect(named.status, named.text).toBe(201);
      made.push((plain.json as { Id: string }).Id, (named.json as { Id: string }).Id);
      const owner = async (id: string) => (await inspectContainer(id))?.Config.Labels['ds01.user'];
      expect(await owner((plain.json as { Id: string }).Id)).toBe('dana');
      expect(await owner((named.json as { Id: string }).Id)).toBe('svc-backup');
      // So alice cannot exec into it.
      const exec = await apiAs(box, 'alice', 'POST', `/v1.41/containers/${(plain.json as { Id: string }).Id}/exec`, { Cmd: ['true'] });
      expect(exec.status).toBe(403);
    } finally {
      for (const id of made) await dockerApi('DELETE', `/containers/${id}?force=true`);
      await removeImage(image);
    }
  });
});

describeDocker('the proxy’s auth.denied flood limit', () => {
  it('logs at most --denials-per-minute refusals one by one, then counts the rest in one event', async () => {
    const box = await startProxy(['alice'], undefined, ['--denials-per-minute', '3']);
    try {
      for (let i = 0; i < 10; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          http
            .get({ socketPath: box.socket('alice'), path: '/v1.41/swarm' }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
        expect(status).toBe(403);
      }
      box.proxy.kill('SIGTERM');
      await box.proxy;
      const denied = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.user === 'alice');
      expect(denied.map((e) => e.details.rule)).toEqual(['admin-only', 'admin-only', 'admin-only', 'rate-limited']);
      expect(denied[3]!.details.reason).toMatch(/^7 more refusals /);
    } finally {
      await box.stop();
    }
  });
});

describe('route table', () => {
  it('strips the version prefix and sorts endpoints', async () => {
    const { routeRequest, withOwnerFilter } = await import('../../src/proxy/index.js');
    expect(routeRequest('GET', '/v1.47/containers/json?all=1').route.kind).toBe('list');
    expect(routeRequest('POST', '/v1.47/containers/abc/exec').route).toEqual({
      kind: 'container',
      ref: 'abc',
      action: 'exec',
      change: true,
    });
    expect(routeRequest('GET', '/containers/abc/logs?follow=1').route).toMatchObject({ kind: 'container', change: false });
    expect(routeRequest('GET', '/containers/abc/archive?path=/').route).toMatchObject({ kind: 'container', change: true });
    expect(routeRequest('POST', '/exec/e1/start').route).toEqual({ kind: 'exec', id: 'e1', action: 'start', change: true });
    expect(routeRequest('POST', '/v1.44/swarm/init').route.kind).toBe('admin-only');
    expect(routeRequest('POST', '/containers/x/checkpoints').route.kind).toBe('admin-only');
    expect(routeRequest('GET', '/v1.44/whatever').route.kind).toBe('unknown');
    expect(routeRequest('POST', '/v1.41/images/prune').route.kind).toBe('admin-only');
    expect(routeRequest('POST', '/v1.41/build/prune').route.kind).toBe('admin-only');
    expect(routeRequest('DELETE', '/v1.41/images/busybox:latest').route).toEqual({ kind: 'image-remove', name: 'busybox:latest' });
    // Image names have slashes (the engine routes `{name:.*}`).
    expect(routeRequest('DELETE', '/images/ds01-test/busybox:latest').route).toEqual({
      kind: 'image-remove',
      name: 'ds01-test/busybox:latest',
    });
    expect(routeRequest('POST', '/v1.41/images/ds01-test/busybox:latest/tag?repo=x').route).toEqual({
      kind: 'image-tag',
      name: 'ds01-test/busybox:latest',
    });
    expect(routeRequest('GET', '/images/ds01-test/busybox:latest/json').route.kind).toBe('open');
    expect(routeRequest('DELETE', '/v1.41/volumes/data').route).toEqual({ kind: 'volume-remove', name: 'data' });
    expect(routeRequest('GET', '/v1.41/volumes/data').route.kind).toBe('open');
    const { isCanonicalTarget } = await import('../../src/proxy/index.js');
    expect(isCanonicalTarget('/v1.41/images/ds01-test/busybox:latest/json?x=%2F')).toBe(true);
    for (const odd of [
      '/containers/x%2Fjson',
      '/containers/x%2fjson',
      '/a/../swarm',
      '/a/%2e%2e/swarm',
      '//h/containers/json',
      '/a\\b',
      '/a//b',
      'containers/json',
    ])
      expect(isCanonicalTarget(odd), odd).toBe(false);
    const q = withOwnerFilter(new URLSearchParams({ filters: JSON.stringify({ label: { 'a=b': true }, status: ['running'] }) }), 'alice');
    expect(JSON.parse(q.get('filters')!)).toEqual({ label: { 'a=b': true, 'ds01.user=alice': true }, status: ['running'] });
  });
});

describeDocker('the proxy and aggregate.memory_max', () => {
  const proxy = proxyForAlice('    memory: 512m\n    aggregate:\n      memory_max: 1G\n');

  it('keeps the memory limits of her running containers within her cap, at create and at start (§7 D24)', async () => {
    const box = proxy();
    const run = (name: string, ...flags: string[]) =>
      dockerAs(box, 'alice', ['run', '-d', '--name', name, '-l', TEST_LABEL, '--network', 'none', ...flags, testImage, 'sleep', '300']);
    const [a, b, c, d] = ['pagg-a', 'pagg-b', 'pagg-c', 'pagg-d'].map((n) => uniqueName(n)) as [string, string, string, string];
    expect((await run(a)).exitCode).toBe(0);
    expect((await run(b, '-m', '256m')).exitCode).toBe(0);
    expect((await run(c, '-m', '0.25gb')).exitCode).toBe(0);
    const over = await run(d);
    expect(over.exitCode).not.toBe(0);
    expect(String(over.stderr)).toContain('ds01: aggregate-memory:');
    expect(await inspectContainer(d)).toBeNull();
    expect((await dockerAs(box, 'alice', ['stop', '-t', '0', a])).exitCode).toBe(0);
    expect((await run(d)).exitCode).toBe(0);
    const again = await dockerAs(box, 'alice', ['start', a]);
    expect(again.exitCode).not.toBe(0);
    expect(String(again.stderr)).toContain('ds01: aggregate-memory:');
    const restart = await dockerAs(box, 'alice', ['restart', '-t', '0', a]);
    expect(restart.exitCode).not.toBe(0);
    expect(String(restart.stderr)).toContain('ds01: aggregate-memory:');
    expect((await inspectContainer(a))?.State.Running).toBe(false);
  });
});

describeDocker('the proxy and simultaneous creates', () => {
  const proxy = proxyForAlice('    max_containers_per_user: 2\n');

  it('six creates sent at once cannot pass max_containers_per_user together: exactly two are created', async () => {
    const box = proxy();
    await removeContainersByLabel('ds01.user=alice');
    const body = { Image: testImage, Cmd: ['true'], Labels: { [LABEL_KEY]: '1' }, HostConfig: { NetworkMode: 'none' } };
    const answers = await Promise.all(Array.from({ length: 6 }, () => apiAs(box, 'alice', 'POST', '/v1.41/containers/create', body)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 403, 403, 403, 403]);
    const mine = await dockerApi<unknown[]>(
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['ds01.user=alice'] }))}`,
    );
    expect(mine.json).toHaveLength(2);
  });
});
