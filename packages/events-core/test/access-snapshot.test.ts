// The site config's access part as root's JSON snapshot (config/access-snapshot.ts):
// written by root's loads of the config, read only while it is root's, unwritable
// by others, and made from the config file exactly as it is now.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileVersion } from '../src/config/access-snapshot.js';
import { ACCESS_SNAPSHOT_FILE, ConfigError, loadSiteConfig, readAccessSnapshot, writeAccessSnapshot } from '../src/config/index.js';
import { tempDir } from './helpers/tmp.js';

const CONFIG = `defaults:
  max_containers_per_user: 3
access_control:
  admin_users: [dana]
  admin_group: ds01-admin
  wrapper:
    enforcement_mode: monitoring
docker_proxy:
  socket_dir: /run/ds01/sockets
`;
const isRoot = process.getuid?.() === 0;
/** Past the margin within which a file just written is not recorded (its next edit could share its times). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe.runIf(isRoot)('the access snapshot of the site config', () => {
  let dir: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  const saved = process.env.DS01_STATE_DIR;
  beforeEach(async () => {
    dir = tempDir();
    config = path.join(dir, 'resource-limits.yaml');
    fs.writeFileSync(config, CONFIG);
    await settle();
    fs.mkdirSync(path.join(dir, 'state'));
    env = { DS01_STATE_DIR: path.join(dir, 'state') };
    // loadSiteConfig writes where the process's environment says.
    process.env.DS01_STATE_DIR = env.DS01_STATE_DIR;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DS01_STATE_DIR;
    else process.env.DS01_STATE_DIR = saved;
  });
  const snapshotFile = () => path.join(dir, 'state', ACCESS_SNAPSHOT_FILE);

  it("is written by root's load of the config, and read back while the config is unchanged", () => {
    expect(readAccessSnapshot(config, env)).toBeUndefined();
    loadSiteConfig(config);
    expect(fs.statSync(snapshotFile()).mode & 0o777).toBe(0o644);
    expect(readAccessSnapshot(config, env)).toEqual({
      access_control: { admin_users: ['dana'], admin_group: 'ds01-admin', wrapper: { enforcement_mode: 'monitoring' } },
      proxy_socket_dir: '/run/ds01/sockets',
    });
  });

  it('is stale as soon as the config changes, until root loads it again', async () => {
    loadSiteConfig(config);
    fs.appendFileSync(config, '# edited\n');
    expect(readAccessSnapshot(config, env)).toBeUndefined();
    // Just edited: not recorded yet, as an edit in the same clock tick could keep all of its times.
    loadSiteConfig(config);
    expect(readAccessSnapshot(config, env)).toBeUndefined();
    await settle();
    loadSiteConfig(config);
    expect(readAccessSnapshot(config, env)?.access_control).toMatchObject({ admin_users: ['dana'] });
    // Rewritten in place with the very same bytes: the change time still tells.
    fs.writeFileSync(config, fs.readFileSync(config));
    expect(readAccessSnapshot(config, env)).toBeUndefined();
  });

  it('is not written for a config that does not load', () => {
    fs.writeFileSync(config, 'access_control:\n  admin_users: dana\n');
    expect(() => loadSiteConfig(config)).toThrow(ConfigError);
    expect(fs.existsSync(snapshotFile())).toBe(false);
  });

  it('is not read for another config, nor when someone else could have written it', () => {
    loadSiteConfig(config);
    const other = path.join(dir, 'other.yaml');
    fs.copyFileSync(config, other);
    expect(readAccessSnapshot(other, env)).toBeUndefined();

    fs.chmodSync(snapshotFile(), 0o664);
    expect(readAccessSnapshot(config, env)).toBeUndefined();
    fs.chmodSync(snapshotFile(), 0o644);
    const alice = Number(execFileSync('id', ['-u', 'alice'], { encoding: 'utf8' }));
    fs.chownSync(snapshotFile(), alice, alice);
    expect(readAccessSnapshot(config, env)).toBeUndefined();
    fs.chownSync(snapshotFile(), 0, 0);
    expect(readAccessSnapshot(config, env)).toBeDefined();

    // A link to root's snapshot, in a folder of someone else's choosing, is not followed.
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(snapshotFile(), path.join(elsewhere, ACCESS_SNAPSHOT_FILE));
    expect(readAccessSnapshot(config, { DS01_STATE_DIR: elsewhere })).toBeUndefined();
  });

  it('is written only by root', async () => {
    const open = tempDir();
    fs.chmodSync(open, 0o777);
    const lib = path.resolve(import.meta.dirname, '../dist/config/access-snapshot.js');
    const script = `import(${JSON.stringify(lib)}).then((m) => { const v = m.fileVersion(${JSON.stringify(config)}); m.writeAccessSnapshot(${JSON.stringify(config)}, v, { access_control: { admin_users: ['alice'] } }, { DS01_STATE_DIR: ${JSON.stringify(open)} }); })`;
    execFileSync('runuser', ['-u', 'alice', '--', process.execPath, '-e', script]);
    expect(fs.readdirSync(open)).toEqual([]);
    // Root, for a config that changed while it was read: nothing either.
    const readAt = fileVersion(config);
    fs.appendFileSync(config, '# edited meanwhile\n');
    writeAccessSnapshot(config, readAt, { access_control: null }, { DS01_STATE_DIR: open });
    expect(fs.readdirSync(open)).toEqual([]);
    await settle();
    // Root, for the config as it is: written.
    writeAccessSnapshot(config, fileVersion(config), { access_control: null }, { DS01_STATE_DIR: open });
    expect(fs.readdirSync(open)).toEqual([ACCESS_SNAPSHOT_FILE]);
  });
});
