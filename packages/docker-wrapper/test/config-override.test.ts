// DS01_CONFIG decides who is an administrator and which rules apply, so a
// real user (not root acting through DS01_AS_USER) may point the wrapper
// only at a config root owns, in a folder they cannot write: otherwise they
// could make themselves an administrator, or switch enforcement off.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerHost, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { inspectContainer, makeSandbox, realDocker, type Sandbox, shareDockerSocket, TEST_LABEL, wrapper, wrapperBin } from './helpers.js';

// Everything a user could wish for from a config of their own.
const GREEDY_CONFIG = `defaults:
  max_containers_per_user: 100
access_control:
  admin_users: [alice]
  wrapper:
    enforcement_mode: disabled
    denied_flags: []
`;

describeDocker('DS01_CONFIG as the real unprivileged user alice', () => {
  let box: Sandbox;
  let unshare: () => void;
  let bobs: string;
  const aliceUid = Number(execFileSync('id', ['-u', 'alice'], { encoding: 'utf8' }));
  const aliceGid = Number(execFileSync('id', ['-g', 'alice'], { encoding: 'utf8' }));
  beforeAll(async () => {
    box = makeSandbox();
    // alice appends her events to the sandbox's log; the config stays in root's etc/ (0755).
    fs.writeFileSync(box.events, '');
    fs.chmodSync(box.events, 0o666);
    unshare = shareDockerSocket();
    bobs = uniqueName('bobs');
    const r = await wrapper(['run', '-d', '--name', bobs, '-l', TEST_LABEL, testImage, 'sleep', '60'], box.env('bob'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });
  afterAll(async () => {
    unshare();
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  const asAlice = (args: string[], config: string) =>
    execa('runuser', ['-u', 'alice', '--', process.execPath, wrapperBin, ...args], {
      env: { ...box.env(null, { HOME: os.tmpdir() }), DS01_CONFIG: config },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
  /** Did anything run in bob's container? (asked as root, of the real client) */
  const touched = async (file: string) =>
    (await execa(realDocker, ['exec', bobs, 'test', '-e', file], { env: { DOCKER_HOST: dockerHost }, reject: false })).exitCode === 0;

  it("refuses a config of alice's own: she does not become an admin, and bob's container is untouched", async () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-alice-'));
    const config = path.join(own, 'resource-limits.yaml');
    fs.writeFileSync(config, GREEDY_CONFIG);
    fs.chownSync(config, aliceUid, aliceGid);
    fs.chownSync(own, aliceUid, aliceGid);
    try {
      const r = await asAlice(['exec', bobs, 'touch', '/tmp/by-alice'], config);
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain(`refused (config-override): DS01_CONFIG=${config} belongs to uid ${aliceUid}, not to root`);
      expect(String(r.stderr)).toContain('Unset DS01_CONFIG');
      expect(await touched('/tmp/by-alice')).toBe(false);
      const denied = box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.details.rule === 'config-override');
      expect(denied.map((e) => [e.user, e.details.operation])).toEqual([['alice', 'exec']]);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });

  it('refuses a config of root in a folder alice can write (she could put user-overrides.yaml beside it)', async () => {
    const open = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-open-'));
    fs.chmodSync(open, 0o777);
    const config = path.join(open, 'resource-limits.yaml');
    fs.writeFileSync(config, GREEDY_CONFIG, { mode: 0o644 });
    try {
      const name = uniqueName('alice-priv');
      const r = await asAlice(['run', '-d', '--name', name, '-l', TEST_LABEL, '--privileged', testImage, 'true'], config);
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain(`refused (config-override): DS01_CONFIG=${config}: you can write its folder ${open}`);
      expect(await inspectContainer(name)).toBeNull();
    } finally {
      fs.rmSync(open, { recursive: true, force: true });
    }
  });

  it("uses the site's config, root's in root's folder: bob's container stays refused to her, her own runs", async () => {
    const r = await asAlice(['exec', bobs, 'touch', '/tmp/by-alice-2'], box.config);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('refused (not-owner)');
    expect(await touched('/tmp/by-alice-2')).toBe(false);
    const name = uniqueName('alice-own');
    const mine = await asAlice(['run', '-d', '--name', name, '-l', TEST_LABEL, testImage, 'sleep', '30'], box.config);
    expect(mine.exitCode, String(mine.stderr)).toBe(0);
    expect((await inspectContainer(name))!.Config.Labels['ds01.user']).toBe('alice');
  });
});
