import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerHost, removeContainersByLabel, uniqueName } from '../../../test-support/docker.js';
import { handOffScript } from '../src/hand-off.js';
import { renderLauncher } from '../src/index.js';
import {
  apiContainer,
  expectTtyProbe,
  inPseudoTerminal,
  inspectContainer,
  makeSandbox,
  type Sandbox,
  shareDockerSocket,
  TEST_LABEL,
  TTY_PROBE,
  wrapper,
  wrapperBin,
} from './helpers.js';

// For every command but run/create, the launcher execs the real client itself once the wrapper approves
// it (src/hand-off.ts): the client is the process the caller started.

/** A stand-in real client: records its argv and environment (NUL-separated), its pid, and what it can write to fds 3 and 4. */
function recorder(dir: string): { bin: string; argv: () => string[]; env: () => Record<string, string>; pid: () => number } {
  const bin = path.join(dir, 'recorder');
  const out = path.join(dir, 'recorded');
  fs.writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `for a do printf '%s\\0' "$a"; done > ${out}.argv`,
      `env -0 > ${out}.env`,
      `echo $$ > ${out}.pid`,
      '{ echo three >&3; } 2>/dev/null',
      '{ echo four >&4; } 2>/dev/null',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
      'case "${RECORDER_END-}" in term) kill -TERM $$ ;; wait) trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done ;; esac',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
      'exit "${RECORDER_EXIT:-0}"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const split = (file: string) => fs.readFileSync(file, 'utf8').split('\0').slice(0, -1);
  return {
    bin,
    argv: () => split(`${out}.argv`),
    env: () => Object.fromEntries(split(`${out}.env`).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    pid: () => Number(fs.readFileSync(`${out}.pid`, 'utf8')),
  };
}

describe('the hand-off script, run by sh', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = makeSandbox();
  });
  afterAll(() => box.cleanup());

  /** sh with the launcher's arguments, evaluating the script as the launcher does. */
  const evalInSh = (script: string, launcherArgv: string[], env: Record<string, string>, extra = '') =>
    execa('sh', ['-c', `ds01_s=$1; shift; ${extra} eval "$ds01_s"`, 'launcher', script, ...launcherArgv], {
      env,
      extendEnv: false,
      reject: false,
    });

  it('passes changed arguments and environment exactly, quotes and newlines included', async () => {
    const rec = recorder(box.dir);
    const from = { env: { PATH: '/usr/bin:/bin', KEEP: 'same', CHANGED: 'before', GONE: 'x' }, argv: ['ps'] };
    const args = ['ps', '--filter', "label=ds01.user=o'brien", 'a b', '$HOME', 'x\ny', '', '\\', 'é'];
    const env = { PATH: '/usr/bin:/bin', KEEP: 'same', CHANGED: "it's\nnew", ADDED: '$(touch /tmp/no)' };
    const script = handOffScript(rec.bin, args, env, from);
    expect(script).not.toBeNull();
    const r = await evalInSh(script!, from.argv, from.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(rec.argv()).toEqual(args);
    const seen = rec.env();
    expect(seen.CHANGED).toBe("it's\nnew");
    expect(seen.ADDED).toBe('$(touch /tmp/no)');
    expect(seen.KEEP).toBe('same');
    expect(seen).not.toHaveProperty('GONE');
  });

  it('keeps unchanged arguments as the launcher’s own "$@", byte for byte (Node reads argv as UTF-8)', async () => {
    const rec = recorder(box.dir);
    const from = { env: { PATH: '/usr/bin:/bin' }, argv: ['logs', 'box\uFFFD'] };
    const script = handOffScript(rec.bin, from.argv, from.env, from)!;
    expect(script).not.toContain('set --');
    // The launcher's real arguments hold a byte that is not UTF-8 (\377), which Node would have turned into U+FFFD.
    const r = await evalInSh(script, [], from.env, `set -- logs "box$(printf '\\377')";`);
    expect(r.exitCode, r.stderr).toBe(0);
    const raw = fs.readFileSync(path.join(box.dir, 'recorded.argv'));
    expect([...raw]).toEqual([...Buffer.from('logs\0box'), 0xff, 0]);
  });

  it('gives up (the wrapper runs the client itself) for a changed variable sh cannot name', () => {
    const from = { env: { 'odd.name': 'a' }, argv: [] };
    expect(handOffScript('/usr/bin/docker', [], { 'odd.name': 'b' }, from)).toBeNull();
    expect(handOffScript('/usr/bin/docker', [], {}, from)).toBeNull();
    expect(handOffScript('/usr/bin/docker', [], { 'odd.name': 'a' }, from)).not.toBeNull();
  });

  it('the launcher ends with the wrapper’s status when it answers with one, and fails when it does not answer', async () => {
    const rec = recorder(box.dir);
    const launcherFor = (nodeScript: string) => {
      const fakeNode = path.join(box.dir, `node-${Math.random().toString(36).slice(2)}`);
      fs.writeFileSync(fakeNode, `#!/bin/sh\n${nodeScript}\n`, { mode: 0o755 });
      const launcher = `${fakeNode}-launcher`;
      fs.writeFileSync(launcher, renderLauncher({ realDocker: rec.bin, node: fakeNode, wrapper: '/w.js' }), { mode: 0o755 });
      return launcher;
    };
    const run = (launcher: string) => execa(launcher, ['inspect', 'x'], { reject: false });
    expect((await run(launcherFor("echo 'exit 7' >&3"))).exitCode).toBe(7);
    // Killed, or crashed before it could answer: nothing runs, and the command fails.
    fs.rmSync(path.join(box.dir, 'recorded.pid'), { force: true });
    expect((await run(launcherFor('exit 0'))).exitCode).toBe(1);
    expect(fs.existsSync(path.join(box.dir, 'recorded.pid'))).toBe(false);
  });
});

/** A sandbox with the generated launcher in it, and a running container of alice's and of bob's. */
async function launcherWithContainers(prefix: string): Promise<{ box: Sandbox; launcher: string; mine: string; bobs: string }> {
  const box = makeSandbox();
  const launcher = path.join(box.dir, 'docker');
  fs.writeFileSync(launcher, renderLauncher({ realDocker: '/usr/bin/docker', node: process.execPath, wrapper: wrapperBin }), {
    mode: 0o755,
  });
  const [mine, bobs] = [uniqueName(`${prefix}-alice`), uniqueName(`${prefix}-bob`)];
  await apiContainer(mine, { 'ds01.user': 'alice', 'ds01.managed': 'true' });
  await apiContainer(bobs, { 'ds01.user': 'bob', 'ds01.managed': 'true' });
  return { box, launcher, mine, bobs };
}

describeDocker('the real client behind the launcher', () => {
  let box: Sandbox;
  let launcher: string;
  let rec: ReturnType<typeof recorder>;
  let mine: string;
  let bobs: string;
  beforeAll(async () => {
    ({ box, launcher, mine, bobs } = await launcherWithContainers('handoff'));
    rec = recorder(box.dir);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  /** The launcher run by sh -c with `exec`, so the pid execa sees is the launcher's (and then the client's). */
  const viaLauncher = (args: string[], env: Record<string, string>, redirects = '') =>
    execa('sh', ['-c', `exec "$0" "$@" ${redirects}`, launcher, ...args], {
      env: box.env('alice', env),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });

  it('is the process the caller started, with the caller’s fds, and the environment the wrapper decided', async () => {
    const f3 = path.join(box.dir, 'fd3');
    const f4 = path.join(box.dir, 'fd4');
    const started = viaLauncher(
      ['logs', mine],
      { DS01_REAL_DOCKER: rec.bin, NODE_EXTRA_CA_CERTS: '/site/ca.pem', DOCKER_CONTEXT: 'elsewhere' },
      `3>${f3} 4>${f4}`,
    );
    const r = await started;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(rec.pid()).toBe(started.pid);
    expect(rec.argv()).toEqual(['logs', mine]);
    expect(fs.readFileSync(f3, 'utf8')).toBe('three\n');
    expect(fs.readFileSync(f4, 'utf8')).toBe('four\n');
    const env = rec.env();
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/site/ca.pem');
    expect(env.DOCKER_HOST).toBe(dockerHost);
    for (const gone of ['DOCKER_CONTEXT', 'DS01_HANDOFF_FD', 'DS01_NODE_EXTRA_CA_CERTS']) expect(env).not.toHaveProperty(gone);
  });

  it('its exit code and its signal are the command’s; a signal sent to the command reaches it directly', async () => {
    expect((await viaLauncher(['logs', mine], { DS01_REAL_DOCKER: rec.bin, RECORDER_EXIT: '42' })).exitCode).toBe(42);
    expect((await viaLauncher(['logs', mine], { DS01_REAL_DOCKER: rec.bin, RECORDER_END: 'term' })).signal).toBe('SIGTERM');
    const child = execa(launcher, ['logs', '-f', mine], {
      env: box.env('alice', { DS01_REAL_DOCKER: rec.bin, RECORDER_END: 'wait' }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      forceKillAfterDelay: false,
    });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(42);
  });

  it('a refusal: exit 1 with the rule on stderr, logged, and the client never runs', async () => {
    fs.rmSync(path.join(box.dir, 'recorded.pid'), { force: true });
    const r = await viaLauncher(['exec', bobs, 'id'], { DS01_REAL_DOCKER: rec.bin });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('refused (not-owner)');
    expect(fs.existsSync(path.join(box.dir, 'recorded.pid'))).toBe(false);
    expect(box.readEvents().some((e) => e.event_type === 'auth.denied' && e.user === 'alice' && e.details.rule === 'not-owner')).toBe(true);
  });

  it('through the real client: exec gets every argument as typed and the caller’s stdin; ps lists only hers', async () => {
    const args = ["it's", 'a b', '$HOME', 'x\ny', '', '\\', 'é'];
    const r = await execa(launcher, ['exec', mine, 'sh', '-c', 'printf "%s\\0" "$@"', '-', ...args], {
      env: box.env('alice'),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout).split('\0').slice(0, -1)).toEqual(args);
    // stdin reaches the client whole: the wrapper shares it (for the cases where it runs the client itself) and reads none.
    const piped = await execa(launcher, ['exec', '-i', mine, 'cat'], {
      env: box.env('alice'),
      extendEnv: false,
      reject: false,
      input: 'PIPED\n',
    });
    expect(piped.exitCode, String(piped.stderr)).toBe(0);
    expect(String(piped.stdout)).toBe('PIPED');
    const ps = await viaLauncher(['ps', '-a', '--format', '{{.Names}}'], {});
    expect(ps.exitCode, String(ps.stderr)).toBe(0);
    const names = String(ps.stdout).split('\n');
    expect(names).toContain(mine);
    expect(names).not.toContain(bobs);
  });

  it('exec -it through a pseudo-terminal: the container sees a TTY, input reaches it, its exit code comes back', async () => {
    expectTtyProbe(await inPseudoTerminal([launcher, 'exec', '-it', mine, ...TTY_PROBE], box.env('alice'), 'hello\n'));
  });

  it('the bin run by hand with the variable but no pipe runs the client itself', async () => {
    const r = await wrapper(['logs', mine], box.env('alice', { DS01_REAL_DOCKER: rec.bin, DS01_HANDOFF_FD: '3' }));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(rec.argv()).toEqual(['logs', mine]);
    expect(rec.env()).not.toHaveProperty('DS01_HANDOFF_FD');
  });
});

describeDocker('the launcher’s hand-off as the real unprivileged user alice', () => {
  let box: Sandbox;
  let unshare: () => void;
  let launcher: string;
  let mine: string;
  let bobs: string;
  beforeAll(async () => {
    ({ box, launcher, mine, bobs } = await launcherWithContainers('handoff-real'));
    fs.chmodSync(box.dir, 0o777);
    unshare = shareDockerSocket();
  });
  afterAll(async () => {
    unshare();
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  // runuser sets alice's supplementary groups (docker among them).
  const asAlice = (args: string[]) =>
    execa('runuser', ['-u', 'alice', '--', launcher, ...args], {
      env: box.env(null, { HOME: box.dir }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });

  it('her ps lists only hers; bob’s container is refused to her and keeps running', async () => {
    const ps = await asAlice(['ps', '-a', '--format', '{{.Names}}']);
    expect(ps.exitCode, String(ps.stderr)).toBe(0);
    const names = String(ps.stdout).split('\n');
    expect(names).toContain(mine);
    expect(names).not.toContain(bobs);
    const stop = await asAlice(['stop', '-t', '0', bobs]);
    expect(stop.exitCode).toBe(1);
    expect(String(stop.stderr)).toContain('refused (not-owner)');
    expect((await inspectContainer(bobs))!.State.Running).toBe(true);
    const own = await asAlice(['exec', mine, 'sh', '-c', 'echo "$0 $1"', 'it’s', 'hers']);
    expect(own.exitCode, String(own.stderr)).toBe(0);
    expect(String(own.stdout)).toBe('it’s hers');
  });
});
