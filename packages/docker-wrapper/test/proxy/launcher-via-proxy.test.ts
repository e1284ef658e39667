import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../../test-support/docker.js';
import { renderLauncher } from '../../src/index.js';
import { apiContainer, inspectContainer, realDocker, TEST_LABEL, wrapperBin } from '../helpers.js';
import { PROXY_CONFIG, type ProxyBox, startProxy } from './helpers.js';

// On a site with the proxy, the launcher hands the verbs the proxy decides straight to the real client on the
// caller's own socket (src/launcher.ts, proxyRoute): no Node start, the proxy's rules. Everything here runs as
// the real user alice, with a DOCKER_HOST she cannot use, so only her proxy socket can make a command work.
describeDocker('the launcher on a site with the proxy (as the real user alice)', () => {
  let box: ProxyBox;
  let launcher: string;
  let nodeStarts: string;
  let mine: string;
  let bobs: string;
  beforeAll(async () => {
    box = await startProxy(['alice', 'bob'], `${PROXY_CONFIG}docker_proxy:\n  socket_dir: {{SOCKETS}}\n`);
    fs.chmodSync(box.dir, 0o755);
    fs.writeFileSync(box.events, '', { mode: 0o644 });
    // The launcher's "node": notes each start, then runs the real one.
    nodeStarts = path.join(box.dir, 'node-starts');
    fs.writeFileSync(nodeStarts, '', { mode: 0o666 });
    fs.chmodSync(nodeStarts, 0o666);
    const node = path.join(box.dir, 'node');
    fs.writeFileSync(node, `#!/bin/sh\necho "$*" >> '${nodeStarts}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    launcher = path.join(box.dir, 'docker');
    fs.writeFileSync(launcher, renderLauncher({ realDocker, node, wrapper: wrapperBin, proxySocketDir: box.socketDir }), { mode: 0o755 });
    [mine, bobs] = [uniqueName('lp-alice'), uniqueName('lp-bob')];
    await apiContainer(mine, { 'ds01.user': 'alice', 'ds01.managed': 'true' });
    await apiContainer(bobs, { 'ds01.user': 'bob', 'ds01.managed': 'true' });
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    await box?.stop();
  });

  const asAlice = (args: string[], env: Record<string, string> = {}) => {
    fs.writeFileSync(nodeStarts, '');
    // runuser sets USER (and HOME) to alice's; env then sets what the test gives, USER included.
    const given = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return execa('runuser', ['-u', 'alice', '--', 'env', ...given, launcher, ...args], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DOCKER_HOST: 'unix:///nonexistent/docker.sock', DOCKER_CONTEXT: 'elsewhere' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
  };
  const startedNode = () => fs.readFileSync(nodeStarts, 'utf8') !== '';
  const denials = (target: string) =>
    box
      .readEvents()
      .filter((e) => e.event_type === 'auth.denied' && e.details.target === target)
      .map((e) => [e.source, e.user, e.details.rule]);

  it('her own container: inspect, logs, exec and ps work on her socket, without starting Node', async () => {
    const inspect = await asAlice(['inspect', '--format', '{{index .Config.Labels "ds01.user"}}', mine]);
    expect(inspect.exitCode, `${inspect.stderr}\n${box.stderr()}`).toBe(0);
    expect(inspect.stdout).toBe('alice');
    expect(startedNode()).toBe(false);
    const exec = await asAlice(['exec', mine, 'echo', 'inside']);
    expect([exec.exitCode, exec.stdout]).toEqual([0, 'inside']);
    expect(startedNode()).toBe(false);
    const ps = await asAlice(['container', 'ls', '-a', '--format', '{{.Names}}']);
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout.split('\n')).toContain(mine);
    expect(ps.stdout.split('\n')).not.toContain(bobs);
    expect(startedNode()).toBe(false);
  });

  it('pass-through verbs go to her socket too, where no login shell set DOCKER_HOST (cron, a service)', async () => {
    const images = await asAlice(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.exitCode, images.stderr).toBe(0);
    expect(images.stdout.split('\n')).toContain(testImage);
    expect(startedNode()).toBe(false);
    // A switch the wrapper must see leaves her environment as it is: the DOCKER_HOST she gave, which nothing answers.
    const asGiven = await asAlice(['images'], { DS01_WRAPPER_BYPASS: '1' });
    expect(asGiven.exitCode).not.toBe(0);
    expect(asGiven.stderr).toContain('/nonexistent/docker.sock');
  });

  it('bob’s container: refused by the proxy with its rule and what to do, logged once as hers, and left running', async () => {
    for (const args of [
      ['inspect', bobs],
      ['exec', bobs, 'true'],
      ['stop', '-t', '0', bobs],
      ['container', 'kill', bobs],
    ]) {
      const r = await asAlice(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/ds01: not-owner: .*bob/);
      expect(startedNode()).toBe(false);
    }
    expect((await inspectContainer(bobs))?.State.Running).toBe(true);
    expect(denials(bobs).length).toBeGreaterThanOrEqual(4);
    expect(new Set(denials(bobs).map((d) => JSON.stringify(d)))).toEqual(
      new Set([JSON.stringify(['ds01-docker-proxy', 'alice', 'not-owner'])]),
    );
  });

  it('several targets are decided one by one, as docker does with a missing one: hers go, bob’s stays', async () => {
    const extra = uniqueName('lp-alice-extra');
    await apiContainer(extra, { 'ds01.user': 'alice', 'ds01.managed': 'true' });
    const r = await asAlice(['rm', '-f', extra, bobs]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(extra);
    expect(await inspectContainer(extra)).toBeNull();
    expect((await inspectContainer(bobs))?.State.Running).toBe(true);
  });

  it('run and create, admin-only verbs and leading global flags still go to the wrapper', async () => {
    for (const args of [
      ['run', '--rm', '--network', 'none', testImage, 'true'],
      ['container', 'create', testImage],
      ['system', 'prune', '-f'],
      ['volume', 'prune', '-f'],
      ['swarm', 'init'],
      ['-D', 'ps'],
      ['compose', 'up'],
    ]) {
      await asAlice(args);
      expect(startedNode(), args.join(' ')).toBe(true);
    }
  });

  it('a switch only the wrapper can refuse and log goes to the wrapper: DS01_WRAPPER_BYPASS, DS01_ISOLATION_MODE, DS01_AS_USER, DS01_CONFIG', async () => {
    for (const env of <Record<string, string>[]>[
      { DS01_WRAPPER_BYPASS: '1' },
      { DS01_ISOLATION_MODE: 'disabled' },
      { DS01_AS_USER: 'bob' },
      { DS01_CONFIG: box.config },
      { DS01_WRAPPER_BYPASS: '' },
    ]) {
      await asAlice(['ps'], env);
      expect(startedNode(), JSON.stringify(env)).toBe(true);
    }
    // With the site's config named, the wrapper serves her: the bypass is refused and logged, bob's container stays closed.
    const r = await asAlice(['inspect', bobs], { DS01_CONFIG: box.config, DS01_WRAPPER_BYPASS: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ds01: refused (not-owner)');
    const bypass = box.readEvents().filter((e) => e.event_type === 'auth.bypass' && e.user === 'alice');
    expect(bypass.map((e) => e.details.allowed)).toContain(false);
  });

  it('a USER that is not the caller finds no socket of theirs: the wrapper decides (it asks the system who she is)', async () => {
    for (const USER of ['bob', '../s/alice', '']) {
      await asAlice(['inspect', bobs], { USER });
      expect(startedNode(), USER).toBe(true);
    }
    expect((await inspectContainer(bobs))?.State.Running).toBe(true);
  });

  it('root is never routed: the wrapper decides for root', async () => {
    fs.writeFileSync(nodeStarts, '');
    const r = await execa(launcher, ['inspect', '--format', '{{.Name}}', mine], {
      env: { ...box.toolEnv(), USER: 'root', DS01_REAL_DOCKER: realDocker },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(startedNode()).toBe(true);
  });
});
