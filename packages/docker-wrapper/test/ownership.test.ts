import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, dockerHost, removeContainersByLabel, uniqueName } from '../../../test-support/docker.js';
import { apiContainer, attempt, inspectContainer, makeSandbox, realDocker, type Sandbox, TEST_LABEL, wrapper } from './helpers.js';

describeDocker('ownership: every verb that names containers checks every target', () => {
  let box: Sandbox;
  let bob: string;
  let bobId: string;
  let mine: string;
  let unowned: string;
  let guarded: string;
  let stoppedBob: string;
  let net: string;

  beforeAll(async () => {
    box = makeSandbox();
    bob = uniqueName('bobc');
    mine = uniqueName('alicec');
    unowned = uniqueName('nobody');
    guarded = uniqueName('guarded');
    stoppedBob = uniqueName('bob-stopped');
    net = uniqueName('net');
    bobId = await apiContainer(bob, { 'ds01.user': 'bob', 'ds01.managed': 'true' });
    await apiContainer(mine, { 'ds01.user': 'alice', 'ds01.managed': 'true' });
    await apiContainer(unowned, {});
    await apiContainer(guarded, { 'ds01.user': 'alice', 'ds01.protected': 'true' });
    await apiContainer(stoppedBob, { 'ds01.user': 'bob' }, ['true']);
    await dockerApi('POST', `/networks/create`, { Name: net, Labels: { 'ds01-test.wrapper': '1' } });
  });

  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await dockerApi('DELETE', `/networks/${net}`);
    box.cleanup();
  });

  const alice = () => box.env('alice');

  const attempts: [string, () => string[]][] = [
    ['exec', () => ['exec', bob, 'true']],
    ['exec -itu root (bundle with a value)', () => ['exec', '-itu', 'root', bob, 'true']],
    ['exec --env-file f', () => ['exec', '--env-file', '/dev/null', bob, 'true']],
    ['exec --detach-keys x', () => ['exec', '--detach-keys', 'ctrl-x', bob, 'true']],
    ['logs', () => ['logs', bob]],
    ['logs -f', () => ['logs', '-f', bob]],
    ['logs --tail 10', () => ['logs', '--tail', '10', bob]],
    ['logs -n 5', () => ['logs', '-n', '5', bob]],
    ['inspect mine then victim (every target)', () => ['inspect', mine, bob]],
    ['inspect by id prefix', () => ['inspect', bobId.slice(0, 7)]],
    ['stats', () => ['stats', '--no-stream', bob]],
    ['attach', () => ['attach', bob]],
    ['top', () => ['top', bob]],
    ['port', () => ['port', bob]],
    ['diff', () => ['diff', bob]],
    ['export', () => ['export', '-o', '/dev/null', bob]],
    ['wait', () => ['wait', bob]],
    ['cp out of the container', () => ['cp', `${bob}:/etc/passwd`, path.join(box.dir, 'stolen')]],
    ['cp into the container', () => ['cp', box.config, `${bob}:/tmp/x`]],
    ['commit', () => ['commit', bob, 'stolen:latest']],
    ['pause', () => ['pause', bob]],
    ['kill -s KILL', () => ['kill', '-s', 'KILL', bob]],
    ['stop -t 0 by id prefix', () => ['stop', '-t', '0', bobId.slice(0, 6)]],
    ['restart', () => ['restart', bob]],
    ['rm -f', () => ['rm', '-f', bob]],
    ['rename', () => ['rename', bob, 'taken']],
    ['update', () => ['update', '--cpus', '0.5', bob]],
    ['container stop', () => ['container', 'stop', bob]],
    ['container rm -f', () => ['container', 'rm', '-f', bob]],
    ['container exec', () => ['container', 'exec', bob, 'true']],
    ['network connect', () => ['network', 'connect', net, bob]],
    ['network disconnect', () => ['network', 'disconnect', net, bob]],
    ['network connect --link to the victim', () => ['network', 'connect', '--link', `${bob}:db`, net, mine]],
    ['global flag first (-D)', () => ['-D', 'stop', bob]],
    ['--context default', () => ['--context', 'default', 'rm', '-f', bob]],
  ];

  it.each(attempts)('%s on another user’s container is refused and changes nothing', async (_label, args) => {
    const r = await attempt(args(), alice());
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/refused \(not-owner\): container '.+' belongs to bob/);
    const c = await inspectContainer(bob);
    expect(c).not.toBeNull();
    expect(c!.Name).toBe(`/${bob}`);
    expect(c!.State.Running).toBe(true);
    expect(c!.State.Paused).toBe(false);
    expect(c!.HostConfig.NanoCpus).toBe(0);
    expect(fs.existsSync(path.join(box.dir, 'stolen'))).toBe(false);
  });

  it('the bin refuses the same way (exec and rm -f through dist/bin/ds01-docker.cjs)', async () => {
    for (const args of [
      ['exec', bob, 'true'],
      ['rm', '-f', bob],
    ]) {
      const r = await wrapper(args, alice());
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toMatch(/refused \(not-owner\)/);
    }
    expect((await inspectContainer(bob))!.State.Running).toBe(true);
  });

  it('logs auth.denied with the rule, operation and target', () => {
    const denied = box.readEvents().filter((e) => e.event_type === 'auth.denied');
    expect(denied.length).toBeGreaterThanOrEqual(attempts.length);
    expect(denied.every((e) => e.user === 'alice' && e.details.rule === 'not-owner')).toBe(true);
    expect(denied.some((e) => e.details.operation === 'network connect' && e.details.target === bob)).toBe(true);
  });

  it('lets the owner act on her own container, by name and by id prefix', async () => {
    const r = await wrapper(['exec', mine, 'echo', 'own'], alice());
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).trim()).toBe('own');
    const c = await inspectContainer(mine);
    const byPrefix = await wrapper(['inspect', '--format', '{{.Name}}', c!.Id.slice(0, 8)], alice());
    expect(String(byPrefix.stdout).trim()).toBe(`/${mine}`);
  });

  it('an id prefix several containers share is left to the real client, which says so (no internal error)', async () => {
    // Seventeen ids cannot all start differently (pigeonhole): made until two do.
    const firsts = new Set<string>();
    let shared: string | undefined;
    for (let i = 0; i < 17 && !shared; i++) {
      const id = await apiContainer(uniqueName('prefix'), { 'ds01.user': 'bob' }, ['true']);
      if (firsts.has(id[0]!)) shared = id[0];
      firsts.add(id[0]!);
    }
    expect(shared, 'two containers whose ids start alike').toBeDefined();
    const direct = await execa(realDocker, ['stop', '-t', '0', shared!], { env: { DOCKER_HOST: dockerHost }, reject: false });
    const r = await wrapper(['stop', '-t', '0', shared!], alice());
    expect(String(r.stderr)).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(direct.exitCode);
    expect(String(r.stderr).trim()).toBe(String(direct.stderr).trim());
  });

  it('refuses non-admins on unowned containers; admins pass and are logged', async () => {
    const r = await attempt(['stop', '-t', '0', unowned], alice());
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/unowned-container/);
    expect((await inspectContainer(unowned))!.State.Running).toBe(true);
    const admin = await wrapper(['inspect', '--format', '{{.Name}}', unowned], box.env('dana'));
    expect(admin.exitCode).toBe(0);
    expect(
      box.readEvents().some((e) => e.event_type === 'access.unowned_container' && e.user === 'dana' && e.details.container === unowned),
    ).toBe(true);
  });

  it('protects ds01.protected containers from changes by their own non-admin owner, but allows reading', async () => {
    const stop = await attempt(['stop', '-t', '0', guarded], alice());
    expect(stop.exitCode).toBe(1);
    expect(String(stop.stderr)).toMatch(/refused \(protected\)/);
    expect((await inspectContainer(guarded))!.State.Running).toBe(true);
    const logs = await wrapper(['logs', guarded], alice());
    expect(logs.exitCode).toBe(0);
  });

  it('hands a target that does not exist to the real client, which reports it', async () => {
    const r = await wrapper(['inspect', 'no-such-container-xyz'], alice());
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/No such/i);
    expect(String(r.stderr)).not.toMatch(/ds01/);
  });

  it('ps, container ls/list/ps show only the caller’s containers; a filter for someone else shows nothing', async () => {
    for (const verb of [['ps'], ['container', 'ls'], ['container', 'list'], ['container', 'ps']]) {
      const r = await wrapper([...verb, '-a', '--format', '{{.Names}}'], alice());
      expect(r.exitCode).toBe(0);
      const names = String(r.stdout).split('\n');
      expect(names).toContain(mine);
      expect(names).not.toContain(bob);
      expect(names).not.toContain(unowned);
    }
    const spoof = await wrapper(['ps', '-a', '--filter', 'label=ds01.user=bob', '--format', '{{.Names}}'], alice());
    expect(String(spoof.stdout).trim()).toBe('');
    const admin = await wrapper(['ps', '--format', '{{.Names}}'], box.env('dana'));
    expect(String(admin.stdout).split('\n')).toContain(bob);
  });

  it('stats and events without targets show only the caller’s containers', async () => {
    const stats = await wrapper(['stats', '--no-stream', '--format', '{{.Name}}'], alice());
    expect(stats.exitCode).toBe(0);
    const names = String(stats.stdout).split('\n');
    expect(names).toContain(mine);
    expect(names).not.toContain(bob);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const events = await wrapper(
      ['events', '--since', '0', '--until', until, '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}'],
      alice(),
    );
    expect(events.exitCode).toBe(0);
    const evNames = String(events.stdout).split('\n');
    expect(evNames).toContain(mine);
    expect(evNames).not.toContain(bob);
  });

  it('container prune removes only the caller’s stopped containers', async () => {
    const r = await wrapper(['container', 'prune', '-f'], alice());
    expect(r.exitCode).toBe(0);
    expect(await inspectContainer(stoppedBob)).not.toBeNull();
  });

  it('refuses verbs that reach past the wrapper (system/volume prune, swarm services, plugins) and unknown commands', async () => {
    for (const args of [
      ['system', 'prune', '-f'],
      ['volume', 'prune', '-f'],
      ['service', 'ls'],
      ['plugin', 'ls'],
      ['swarm', 'init'],
      ['compose', 'ps'],
    ]) {
      const r = await attempt(args, alice());
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(String(r.stderr)).toMatch(/refused \((admin-only|unknown-command)\)/);
    }
    expect(await inspectContainer(stoppedBob)).not.toBeNull();
  });

  it('refuses a volume whose options bind a host path', async () => {
    const name = uniqueName('vol');
    const r = await attempt(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/etc', name], alice());
    expect(r.exitCode).toBe(1);
    expect((await dockerApi('GET', `/volumes/${name}`)).status).toBe(404);
  });

  it('refuses exec --privileged and update above the user’s limits on her own container', async () => {
    const ex = await attempt(['exec', '--privileged', mine, 'true'], alice());
    expect(ex.exitCode).toBe(1);
    expect(String(ex.stderr)).toMatch(/refused \(privileged\)/);
    const up = await attempt(['update', '--memory', '8g', '--memory-swap', '8g', mine], alice());
    expect(up.exitCode).toBe(1);
    expect(String(up.stderr)).toMatch(/refused \(limits\)/);
    expect((await inspectContainer(mine))!.HostConfig.Memory).toBe(0);
  });

  it('monitoring and bypass switches from a non-admin change nothing (and are logged)', async () => {
    const switches: Record<string, string>[] = [
      { DS01_WRAPPER_BYPASS: '1' },
      { DS01_ISOLATION_MODE: 'monitoring' },
      { DS01_ISOLATION_MODE: 'disabled' },
    ];
    for (const extra of switches) {
      const r = await attempt(['rm', '-f', bob], box.env('alice', extra));
      expect(r.exitCode).toBe(1);
      expect(await inspectContainer(bob)).not.toBeNull();
    }
    const tries = box.readEvents().filter((e) => e.event_type === 'auth.bypass' && e.user === 'alice');
    expect(tries.map((e) => e.details.mode).sort()).toEqual(['bypass', 'disabled', 'monitoring']);
    expect(tries.every((e) => e.details.allowed === false)).toBe(true);
  });

  it('an admin’s bypass runs the real client untouched, and is logged', async () => {
    const r = await wrapper(['ps', '-a', '--format', '{{.Names}}'], box.env('dana', { DS01_WRAPPER_BYPASS: '1' }));
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).split('\n')).toContain(bob);
    expect(box.readEvents().some((e) => e.event_type === 'auth.bypass' && e.user === 'dana' && e.details.allowed === true)).toBe(true);
  });

  it('refuses -H pointing at another daemon', async () => {
    const r = await attempt(['-H', 'unix:///tmp/another.sock', 'ps'], alice());
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/refused \(other-daemon\)/);
    const ctx = await attempt(['--context', 'elsewhere', 'ps'], alice());
    expect(ctx.exitCode).toBe(1);
    expect(String(ctx.stderr)).toMatch(/refused \(other-daemon\)/);
  });
});
