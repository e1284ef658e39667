import fs from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../../test-support/docker.js';
import { apiContainer, gpuBin, inspectContainer, realDocker, TEST_LABEL, wrapperBin } from '../helpers.js';
import { apiAs, PROXY_CONFIG, type ProxyBox, startProxy } from './helpers.js';

describeDocker('the wrapper in front of the proxy (as the real user alice)', () => {
  let box: ProxyBox;
  let bobName: string;
  beforeAll(async () => {
    box = await startProxy(['alice', 'bob'], `${PROXY_CONFIG}docker_proxy:\n  socket_dir: {{SOCKETS}}\n`);
    // As on a site with the proxy: the log is root's alone; the wrapper's events reach it through the proxy (§7 B11).
    fs.chmodSync(box.dir, 0o755);
    fs.writeFileSync(box.events, '', { mode: 0o644 });
    fs.chmodSync(box.events, 0o644);
    bobName = uniqueName('bob-behind');
    await apiContainer(bobName, { 'ds01.user': 'bob', 'ds01.managed': 'true' });
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await box?.stop();
  });

  // DOCKER_HOST names a daemon alice cannot reach: only the proxy socket the wrapper finds can make these work.
  const wrapperAsAlice = (args: string[]) =>
    execa('runuser', ['-u', 'alice', '--', process.execPath, wrapperBin, ...args], {
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: '/home/alice',
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
        DS01_CONFIG: box.config,
        DS01_EVENTS_FILE: box.events,
        DS01_REAL_DOCKER: realDocker,
      },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });

  it('run goes through her proxy socket: the wrapper’s labels pass the proxy’s check, one container.create event', async () => {
    const name = uniqueName('alice-wrapped');
    const r = await wrapperAsAlice(['run', '-d', '--name', name, '-l', TEST_LABEL, '--network', 'none', testImage, 'sleep', '60']);
    expect(r.exitCode, `${r.stderr}\n${box.stderr()}`).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels['ds01.user']).toBe('alice');
    expect(c.Config.Labels['ds01.interface']).toBe('docker');
    expect(c.HostConfig.CgroupParent).toBe('ds01-student-alice.slice');
    const creates = box.readEvents().filter((e) => e.event_type === 'container.create' && e.details.container === name);
    expect(creates.map((e) => e.source)).toEqual(['ds01-docker-proxy']);
    const ps = await wrapperAsAlice(['ps', '-a', '--format', '{{.Names}}']);
    expect(String(ps.stdout).split('\n')).toContain(name);
    expect(String(ps.stdout).split('\n')).not.toContain(bobName);
  });

  it('run --gpus through the wrapper then the proxy: one reservation (the proxy’s allocate returns the wrapper’s), bound to the container', async () => {
    const name = uniqueName('alice-wrapped-gpu');
    // Root acting as alice (DS01_AS_USER): the wrapper runs ds01-gpu itself, without sudo (DOCKER_HOST is the real daemon, which the
    // allocator needs: on a site sudo's env_reset gives it the default), and sends the command through alice's proxy socket.
    const r = await execa(
      process.execPath,
      [wrapperBin, 'run', '-d', '--name', name, '-l', TEST_LABEL, '--network', 'none', '--gpus', '1', testImage, 'sleep', '60'],
      {
        env: { ...box.toolEnv(), DS01_AS_USER: 'alice', DS01_REAL_DOCKER: realDocker },
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      },
    );
    expect(r.exitCode, `${r.stderr}\n${box.stderr()}`).toBe(0);
    const c = (await inspectContainer(name))!;
    const ids = c.HostConfig.DeviceRequests?.[0]?.DeviceIDs ?? [];
    expect(ids).toHaveLength(1);
    const st = await execa(process.execPath, [gpuBin, 'status', '--json'], { env: box.toolEnv(), extendEnv: false, reject: false });
    const allocs = (
      JSON.parse(String(st.stdout)) as { allocations: { container: string; container_id: string | null; gpus: { uuid: string }[] }[] }
    ).allocations.filter((a) => a.container === name);
    expect(allocs).toHaveLength(1);
    expect(allocs[0]!.gpus.map((g) => g.uuid)).toEqual(ids);
    expect(allocs[0]!.container_id).toBe(c.Id);
    const events = box.readEvents();
    expect(events.filter((e) => e.event_type === 'gpu.allocate' && e.details.container === name)).toHaveLength(1);
    // It went through the proxy: the proxy logged the create, the wrapper left it to it.
    expect(events.filter((e) => e.event_type === 'container.create' && e.details.container === name).map((e) => e.source)).toEqual([
      'ds01-docker-proxy',
    ]);
  });

  it('bob’s container is refused with the wrapper’s own message (the proxy’s 403 read as the rule)', async () => {
    const r = await wrapperAsAlice(['inspect', bobName]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('ds01: refused (not-owner)');
    // Logged once, by the proxy that refused it; the wrapper does not log it again.
    const denials = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.user === 'alice' && e.details.target === bobName);
    expect(denials.map((e) => e.source)).toEqual(['ds01-docker-proxy']);
    // The wrapper's own refusals are its own to log: it cannot write the log, the proxy writes them for it, as alice's.
    const own = await wrapperAsAlice(['run', '-d', '-l', TEST_LABEL, '--privileged', testImage, 'true']);
    expect(own.exitCode).toBe(1);
    const privileged = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.details.rule === 'privileged');
    expect(privileged.map((e) => [e.source, e.user])).toEqual([['docker-wrapper', 'alice']]);
  });

  it('volumes through both: the wrapper’s owner label passes the proxy; a new volume is hers; bob’s is refused by the wrapper, logged once', async () => {
    const made = uniqueName('alice-wrapped-vol');
    const fresh = uniqueName('alice-wrapped-new');
    const bobVol = uniqueName('bob-wrapped-vol');
    await dockerApi('POST', '/volumes/create', { Name: bobVol, Labels: { 'ds01.user': 'bob' } });
    try {
      const c = await wrapperAsAlice(['volume', 'create', made]);
      expect(c.exitCode, `${c.stderr}\n${box.stderr()}`).toBe(0);
      expect((await dockerApi<{ Labels: Record<string, string> }>('GET', `/volumes/${made}`)).json?.Labels).toEqual({
        'ds01.user': 'alice',
      });
      const run = await wrapperAsAlice(['run', '--rm', '--network', 'none', '-v', `${fresh}:/d`, testImage, 'true']);
      expect(run.exitCode, `${run.stderr}\n${box.stderr()}`).toBe(0);
      expect((await dockerApi<{ Labels: Record<string, string> }>('GET', `/volumes/${fresh}`)).json?.Labels).toEqual({
        'ds01.user': 'alice',
      });
      const steal = await wrapperAsAlice(['volume', 'rm', bobVol]);
      expect(String(steal.stderr)).toContain('ds01: refused (not-owner)');
      expect((await dockerApi('GET', `/volumes/${bobVol}`)).status).toBe(200);
      const denials = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.details.target === bobVol);
      expect(denials.map((e) => [e.source, e.user])).toEqual([['docker-wrapper', 'alice']]);
    } finally {
      for (const v of [made, fresh, bobVol]) await dockerApi('DELETE', `/volumes/${v}`);
    }
  });

  it('alice cannot append to the log, and what she sends to the relay is hers, of a wrapper type, with valid details (§7 B11)', async () => {
    const append = await execa('runuser', ['-u', 'alice', '--', 'sh', '-c', `echo '{"event_type":"gpu.allocate"}' >> '${box.events}'`], {
      reject: false,
    });
    expect(append.exitCode).not.toBe(0);
    const forged = await apiAs(box, 'alice', 'POST', '/_ds01/events', {
      event_type: 'auth.denied',
      user: 'bob',
      details: { operation: 'run', rule: 'forged-rule', reason: 'says bob did it' },
    });
    expect(forged.status).toBe(204);
    expect(
      box
        .readEvents()
        .filter((e) => e.details.rule === 'forged-rule')
        .map((e) => [e.user, e.source]),
    ).toEqual([['alice', 'docker-wrapper']]);
    const otherType = await apiAs(box, 'alice', 'POST', '/_ds01/events', { event_type: 'gpu.release', details: { container: 'x' } });
    expect(otherType.status).toBe(403);
    const badDetails = await apiAs(box, 'alice', 'POST', '/_ds01/events', { event_type: 'auth.denied', details: { rule: 5 } });
    expect(badDetails.status).toBe(400);
    expect(box.readEvents().some((e) => e.event_type === 'gpu.release' || e.details.rule === 5)).toBe(false);
  });
});
