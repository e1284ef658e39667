import fs from 'node:fs';
import path from 'node:path';
import { loadSiteConfig, resolveUserLimits } from '@ds01/events-core/config';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstallReport, Manifest } from '../src/index.js';
import { install } from '../src/index.js';
import { installBin, makeSourceTree, runInstall, STAND_IN_LAUNCHER_TEMPLATE, snapshot, tempDir } from './helpers.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(opts: { without?: string[]; launcherTemplate?: string | false } = {}) {
  const source = makeSourceTree(opts);
  const prefix = tempDir('prefix');
  cleanup.push(source, prefix);
  return { source, prefix };
}

async function installJson(prefix: string, source: string, extra: string[] = []): Promise<InstallReport> {
  const res = await runInstall(['--prefix', prefix, '--source', source, '--json', ...extra]);
  expect(res.stderr).toBe('');
  expect(res.exitCode).toBe(0);
  return JSON.parse(res.stdout) as InstallReport;
}

const dockerGid = () =>
  Number(
    fs
      .readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('docker:'))
      ?.split(':')[2],
  );

describe('ds01-install --prefix', () => {
  it('installs every bin as an exec shim and docker as the launcher in front of the wrapper', async () => {
    const { source, prefix } = setup();
    const report = await installJson(prefix, source);
    expect(report.missing_bins).toEqual([]);
    const bin = path.join(prefix, 'usr/local/bin');
    for (const name of [
      'ds01-docker',
      'ds01-gpu',
      'ds01-events',
      'ds01-idle',
      'ds01-runtime',
      'ds01-cleanup',
      'ds01-docker-watch',
      'ds01-docker-proxy',
      'ds01-install',
    ]) {
      const st = fs.statSync(path.join(bin, name));
      expect(st.mode & 0o7777, name).toBe(0o755);
    }
    const docker = fs.lstatSync(path.join(bin, 'docker'));
    expect(docker.isFile()).toBe(true);
    expect([docker.mode & 0o7777, docker.uid, docker.gid]).toEqual([0o755, 0, 0]);
    expect(fs.readFileSync(path.join(bin, 'docker'), 'utf8')).toBe(
      STAND_IN_LAUNCHER_TEMPLATE.replaceAll("'@DS01_REAL_DOCKER@'", "'/usr/bin/docker'")
        .replaceAll("'@DS01_NODE@'", `'${process.execPath}'`)
        .replaceAll("'@DS01_WRAPPER@'", `'${path.join(source, 'packages/docker-wrapper/dist/bin/ds01-docker.js')}'`)
        .replaceAll("'@DS01_PROXY_SOCKET_DIR@'", "'/run/ds01/docker'"),
    );
    expect(fs.existsSync(path.join(bin, 'ds01-demo')), 'the demo is not a server tool').toBe(false);
    // The shim, and the launcher for a verb it does not pass through, really run the package's script with the caller's arguments.
    expect(JSON.parse((await execa(path.join(bin, 'ds01-docker'), ['ps', "it's"])).stdout)).toEqual({
      bin: 'ds01-docker',
      args: ['ps', "it's"],
    });
    const ran = await execa(path.join(bin, 'docker'), ['ps', '-a', "it's"]);
    expect(JSON.parse(ran.stdout)).toEqual({ bin: 'ds01-docker', args: ['ps', '-a', "it's"] });
  });

  it('copies the cron entries, the watcher unit, and writes log rotation without copytruncate', async () => {
    const { source, prefix } = setup();
    const report = await installJson(prefix, source);
    for (const job of ['idle', 'runtime', 'cleanup']) {
      const file = path.join(prefix, 'etc/cron.d', `ds01-${job}`);
      expect(fs.readFileSync(file, 'utf8')).toBe(
        fs.readFileSync(path.join(source, `packages/maintenance-${job}/cron/ds01-${job}`), 'utf8'),
      );
      expect(fs.statSync(file).mode & 0o7777).toBe(0o644);
    }
    expect(fs.readFileSync(path.join(prefix, 'etc/systemd/system/ds01-docker-watch.service'), 'utf8')).toContain('ExecStart=');
    expect(report.items.find((i) => i.kind === 'unit')).toMatchObject({ status: 'skipped', detail: 'not enabled under --prefix' });
    const rotate = fs.readFileSync(path.join(prefix, 'etc/logrotate.d/ds01'), 'utf8');
    const events = /\/var\/log\/ds01\/events\.jsonl \{([^}]*)\}/.exec(rotate)?.[1] ?? '';
    const directives = events
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    // With ds01-docker-proxy built, the log is root's alone (users' events come through the proxy).
    expect(directives).toEqual(
      expect.arrayContaining(['daily', 'rotate 30', 'compress', 'delaycompress', 'dateext', 'create 0644 root root', 'su root root']),
    );
    expect(rotate.split('\n').filter((l) => /^\s*copytruncate/.test(l))).toEqual([]);
  });

  it('without the proxy, the log directory is setgid group docker and rotation keeps that group', async () => {
    const { source, prefix } = setup({ without: ['ds01-docker-proxy'] });
    await installJson(prefix, source);
    const log = fs.statSync(path.join(prefix, 'var/log/ds01'));
    expect(log.mode & 0o7777).toBe(0o2775);
    expect([log.uid, log.gid]).toEqual([0, dockerGid()]);
    const rotate = fs.readFileSync(path.join(prefix, 'etc/logrotate.d/ds01'), 'utf8');
    expect(rotate).toContain('create 0664 root docker');
    expect(rotate).toContain('su root docker');
  });

  it('creates the log and state directories with their documented owners and modes', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    const log = fs.statSync(path.join(prefix, 'var/log/ds01'));
    expect(log.mode & 0o7777).toBe(0o755);
    expect([log.uid, log.gid]).toEqual([0, 0]);
    const state = fs.statSync(path.join(prefix, 'var/lib/ds01'));
    expect(state.mode & 0o7777).toBe(0o755);
    expect([state.uid, state.gid]).toEqual([0, 0]);
    const sudoers = path.join(prefix, 'etc/sudoers.d/ds01');
    expect(fs.statSync(sudoers).mode & 0o7777).toBe(0o440);
    expect(fs.readFileSync(sudoers, 'utf8')).toMatch(/^%docker ALL=\(root\) NOPASSWD: DS01_GPU$/m);
    expect(fs.readFileSync(sudoers, 'utf8')).toMatch(/^Cmnd_Alias DS01_GPU = \/usr\/local\/bin\/ds01-gpu$/m);
  });

  it('closes the daemon socket to users (docker.socket drop-in) and points login shells at their proxy socket', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    const dropIn = fs.readFileSync(path.join(prefix, 'etc/systemd/system/docker.socket.d/ds01.conf'), 'utf8');
    expect(dropIn).toMatch(/^\[Socket\]$/m);
    expect(dropIn).toMatch(/^SocketMode=0660$/m);
    expect(dropIn).toMatch(/^SocketGroup=root$/m);
    const profile = path.join(prefix, 'etc/profile.d/ds01-docker.sh');
    expect(fs.statSync(profile).mode & 0o7777).toBe(0o644);
    // As alice, with her socket in place, a login shell gets DOCKER_HOST; root keeps the default.
    const text = fs.readFileSync(profile, 'utf8');
    const shell = (user: string | null, socketDir: string) => {
      const script = text.replaceAll('/run/ds01/docker', socketDir);
      const args = ['-c', `${script}\nprintf %s "$DOCKER_HOST"`];
      return user
        ? execa('runuser', ['-u', user, '--', 'sh', ...args], { env: { PATH: '/usr/sbin:/usr/bin:/bin', USER: user }, extendEnv: false })
        : execa('sh', args, { env: { PATH: '/usr/bin:/bin', USER: 'root' }, extendEnv: false });
    };
    const dir = tempDir('sockets');
    cleanup.push(dir);
    fs.chmodSync(dir, 0o755);
    expect((await shell('alice', dir)).stdout).toBe('');
    fs.mkdirSync(path.join(dir, 'alice'));
    const net = await import('node:net');
    const server = net.createServer().listen(path.join(dir, 'alice', 'docker.sock'));
    await new Promise((r) => server.once('listening', r));
    try {
      expect((await shell('alice', dir)).stdout).toBe(`unix://${dir}/alice/docker.sock`);
      expect((await shell(null, dir)).stdout).toBe('');
    } finally {
      server.close();
    }
  });

  it('writes an example config that loads as it is, with no unknown key', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    const config = loadSiteConfig(path.join(prefix, 'etc/ds01/resource-limits.yaml'));
    expect(config.warnings).toEqual([]);
    expect(config.groups.map((g) => g.name)).toEqual(['student', 'researcher', 'admin']);
    const alice = resolveUserLimits(config, 'alice');
    expect(alice.group).toBe('student');
    expect(alice.values.max_gpu_equivalents).toBe(1);
  });

  it('a second run changes nothing and says so', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    const before = snapshot(prefix);
    const second = await installJson(prefix, source);
    expect(second.unchanged).toBe(true);
    expect(second.items.filter((i) => i.status !== 'unchanged' && i.status !== 'skipped')).toEqual([]);
    expect(snapshot(prefix)).toEqual(before);
    const text = await runInstall(['--prefix', prefix, '--source', source]);
    expect(text.stdout).toMatch(/^unchanged: /m);
  });

  it('--dry-run reports what it would do and writes nothing', async () => {
    const { source, prefix } = setup();
    const report = await installJson(prefix, source, ['--dry-run']);
    expect(report.dry_run).toBe(true);
    expect(report.items.filter((i) => i.status === 'created').length).toBeGreaterThan(10);
    expect(fs.readdirSync(prefix)).toEqual([]);
  });

  it('names the bins that are not built and installs the others', async () => {
    const { source, prefix } = setup({ without: ['ds01-idle', 'ds01-gpu'] });
    const report = await installJson(prefix, source);
    expect(report.missing_bins.map((m) => m.name).sort()).toEqual(['ds01-gpu', 'ds01-idle']);
    expect(report.missing_bins[0]?.why).toMatch(/is not built \(run npm run build\)/);
    expect(fs.existsSync(path.join(prefix, 'usr/local/bin/ds01-idle'))).toBe(false);
    expect(fs.existsSync(path.join(prefix, 'usr/local/bin/ds01-runtime'))).toBe(true);
    const text = await runInstall(['--prefix', prefix, '--source', source]);
    expect(text.stdout).toMatch(/missing\s+ds01-gpu: packages\/gpu-allocator\/dist\/bin\/ds01-gpu\.js is not built/);
  });

  it('keeps an existing config and a previous docker, and --uninstall restores exactly the tree it found', async () => {
    const { source, prefix } = setup();
    fs.mkdirSync(path.join(prefix, 'etc/ds01'), { recursive: true });
    fs.writeFileSync(path.join(prefix, 'etc/ds01/resource-limits.yaml'), 'defaults:\n  max_gpu_equivalents: 2\n');
    fs.mkdirSync(path.join(prefix, 'usr/local/bin'), { recursive: true });
    fs.writeFileSync(path.join(prefix, 'usr/local/bin/docker'), '#!/bin/sh\necho old docker\n', { mode: 0o755 });
    fs.writeFileSync(path.join(prefix, 'usr/local/bin/other-tool'), 'keep me\n');
    const before = snapshot(prefix);

    const report = await installJson(prefix, source);
    expect(report.items.find((i) => i.path === '/etc/ds01/resource-limits.yaml')?.status).toBe('kept');
    expect(fs.readFileSync(path.join(prefix, 'etc/ds01/resource-limits.yaml'), 'utf8')).toBe('defaults:\n  max_gpu_equivalents: 2\n');
    expect(report.items.find((i) => i.path === '/usr/local/bin/docker')).toMatchObject({ status: 'updated' });
    expect(fs.readFileSync(path.join(prefix, 'usr/local/bin/docker'), 'utf8')).toContain('ds01-docker-wrapper launcher');

    const un = await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    expect(un.exitCode).toBe(0);
    const unReport = JSON.parse(un.stdout) as InstallReport;
    expect(unReport.items.find((i) => i.path === '/usr/local/bin/docker')?.status).toBe('restored');
    expect(snapshot(prefix)).toEqual(before);
  });

  it('--uninstall keeps a file the admin changed since the install', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    fs.appendFileSync(path.join(prefix, 'etc/cron.d/ds01-idle'), '# local change\n');
    fs.appendFileSync(path.join(prefix, 'etc/ds01/resource-limits.yaml'), '# tuned\n');
    fs.writeFileSync(path.join(prefix, 'var/log/ds01/events.jsonl'), '{}\n');
    const un = await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    const report = JSON.parse(un.stdout) as InstallReport;
    expect(report.items.find((i) => i.path === '/etc/cron.d/ds01-idle')).toMatchObject({
      status: 'kept',
      detail: 'changed since it was installed',
    });
    expect(report.items.find((i) => i.path === '/var/log/ds01')?.status).toBe('kept');
    expect(fs.existsSync(path.join(prefix, 'etc/cron.d/ds01-idle'))).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'etc/ds01/resource-limits.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'var/log/ds01/events.jsonl'))).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'usr/local/bin/ds01-gpu'))).toBe(false);
    expect(fs.existsSync(path.join(prefix, 'var/lib/ds01/install-manifest.json'))).toBe(false);
  });

  it('refuses a bad option with exit 2 and prints pure JSON with --json', async () => {
    const { source, prefix } = setup();
    const bad = await runInstall(['--prefix', prefix, '--bogus']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/Unknown argument: bogus/);
    const empty = await runInstall(['--prefix', '']);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toMatch(/--prefix needs a directory/);
    const json = await runInstall(['--prefix', prefix, '--source', source, '--json']);
    expect(() => JSON.parse(json.stdout)).not.toThrow();
  });

  it('refuses to install into / without root, pointing at sudo', async () => {
    const res = await execa('runuser', ['-u', 'alice', '--', process.execPath, installBin], { reject: false });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/needs root: run it with sudo/);
  });
});

describe("ds01-install: docker is the wrapper's launcher", () => {
  const dockerPath = '/usr/local/bin/docker';
  const dockerItem = (r: InstallReport) => r.items.find((i) => i.path === dockerPath);
  const manifestOf = (prefix: string) =>
    JSON.parse(fs.readFileSync(path.join(prefix, 'var/lib/ds01/install-manifest.json'), 'utf8')) as Manifest;

  /** A fake real client and a fake node that record how they were called, in a directory whose name needs quoting. */
  function fakes() {
    const dir = path.join(tempDir('fakes'), "it's here");
    cleanup.push(path.dirname(dir));
    fs.mkdirSync(dir);
    const log = path.join(dir, 'calls');
    const real = path.join(dir, 'docker');
    const node = path.join(dir, 'node');
    fs.writeFileSync(real, `#!/bin/sh\necho "real $*" >> '${log.replaceAll("'", `'\\''`)}'\nexit 7\n`, { mode: 0o755 });
    fs.writeFileSync(node, `#!/bin/sh\necho "node $*" >> '${log.replaceAll("'", `'\\''`)}'\n`, { mode: 0o755 });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
    return { real, node, calls };
  }

  it('execs the real client for a pass-through verb and the wrapper, through node, for the rest', async () => {
    const { source, prefix } = setup();
    const f = fakes();
    const report = await install({ prefix, source, dryRun: false, nodePath: f.node, realDocker: f.real });
    expect(report.failed).toBe(false);
    expect(dockerItem(report)).toMatchObject({ kind: 'file', status: 'created' });
    const docker = path.join(prefix, dockerPath);
    const text = fs.readFileSync(docker, 'utf8');
    expect(text).not.toMatch(/@DS01_/);
    const wrapper = path.join(source, 'packages/docker-wrapper/dist/bin/ds01-docker.js');
    const version = await execa(docker, ['version', '--format', "{{.Client}} it's"], { reject: false });
    expect(version.exitCode, 'the real client ran and its exit status came back').toBe(7);
    expect(f.calls()).toEqual(["real version --format {{.Client}} it's"]);
    const ps = await execa(docker, ['ps', '-a'], { reject: false });
    expect(ps.exitCode).toBe(0);
    expect(f.calls()).toEqual(["real version --format {{.Client}} it's", `node ${wrapper} ps -a`]);
    // The manifest records the file, so --uninstall takes it away.
    expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toMatchObject({ kind: 'file' });
    const un = await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    expect(dockerItem(JSON.parse(un.stdout) as InstallReport)?.status).toBe('removed');
    expect(fs.existsSync(docker)).toBe(false);
  });

  it('fills in DS01_REAL_DOCKER, and refuses a real client that is ds01 itself or not absolute', async () => {
    const { source, prefix } = setup();
    const res = await runInstall(['--prefix', prefix, '--source', source, '--json'], { DS01_REAL_DOCKER: ' /opt/docker/bin/docker ' });
    expect(res.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(prefix, dockerPath), 'utf8')).toMatch(/^ {4}exec '\/opt\/docker\/bin\/docker' "\$@" ;;$/m);
    const launcher = fs.readFileSync(path.join(prefix, dockerPath), 'utf8');
    const entry = manifestOf(prefix).entries.find((e) => e.path === dockerPath);
    for (const bad of ['/usr/local/bin/docker', '/usr/local/bin/ds01-docker', 'docker']) {
      const again = await runInstall(['--prefix', prefix, '--source', source, '--json'], { DS01_REAL_DOCKER: bad });
      expect(again.exitCode, bad).toBe(1);
      const item = dockerItem(JSON.parse(again.stdout) as InstallReport);
      expect(item?.status).toBe('failed');
      expect(item?.detail).toMatch(/set DS01_REAL_DOCKER to docker's own client/);
      // The launcher already there stays, and so does its manifest entry.
      expect(fs.readFileSync(path.join(prefix, dockerPath), 'utf8')).toBe(launcher);
      expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toEqual(entry);
    }
  });

  it('backs up a docker that was there, is unchanged on a second run, and --uninstall brings the old one back', async () => {
    const { source, prefix } = setup();
    fs.mkdirSync(path.join(prefix, 'usr/local/bin'), { recursive: true });
    fs.writeFileSync(path.join(prefix, dockerPath), '#!/bin/sh\necho old docker\n', { mode: 0o750 });
    const before = snapshot(prefix);

    const dry = await installJson(prefix, source, ['--dry-run']);
    expect(dockerItem(dry)).toMatchObject({ status: 'updated' });
    expect(dockerItem(dry)?.detail).toMatch(
      /previous file is kept as \/var\/lib\/ds01\/install-backup\/usr\/local\/bin\/docker and restored by --uninstall/,
    );
    expect(snapshot(prefix)).toEqual(before);

    const first = await installJson(prefix, source);
    expect(dockerItem(first)).toMatchObject({ status: 'updated' });
    expect(fs.readFileSync(path.join(prefix, dockerPath), 'utf8')).toContain('ds01-docker-wrapper launcher');
    const backup = path.join(prefix, 'var/lib/ds01/install-backup/usr/local/bin/docker');
    expect(fs.readFileSync(backup, 'utf8')).toBe('#!/bin/sh\necho old docker\n');
    expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toMatchObject({
      kind: 'file',
      backup: '/var/lib/ds01/install-backup/usr/local/bin/docker',
    });

    const installed = snapshot(prefix);
    const second = await installJson(prefix, source);
    expect(second.unchanged).toBe(true);
    expect(dockerItem(second)?.status).toBe('unchanged');
    expect(snapshot(prefix)).toEqual(installed);

    const un = await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    expect(un.exitCode).toBe(0);
    expect(dockerItem(JSON.parse(un.stdout) as InstallReport)?.status).toBe('restored');
    expect(snapshot(prefix)).toEqual(before);
  });

  it('replaces the docker → ds01-docker link of an earlier install, keeping what that install had backed up', async () => {
    const { source, prefix } = setup();
    fs.mkdirSync(path.join(prefix, 'usr/local/bin'), { recursive: true });
    fs.writeFileSync(path.join(prefix, dockerPath), '#!/bin/sh\necho old docker\n', { mode: 0o755 });
    const before = snapshot(prefix);
    await installJson(prefix, source);
    // What an install before the launcher left: a link, recorded as one, and the old docker in the backup.
    const docker = path.join(prefix, dockerPath);
    fs.rmSync(docker);
    fs.symlinkSync('ds01-docker', docker);
    const manifest = manifestOf(prefix);
    const entry = manifest.entries.find((e) => e.path === dockerPath);
    if (!entry) throw new Error('no docker entry in the manifest');
    Object.assign(entry, { kind: 'link', target: 'ds01-docker', sha256: undefined });
    fs.writeFileSync(path.join(prefix, 'var/lib/ds01/install-manifest.json'), JSON.stringify(manifest));

    const upgrade = await installJson(prefix, source);
    expect(dockerItem(upgrade)).toMatchObject({ status: 'updated', detail: 'replaces the link (→ ds01-docker) an earlier install made' });
    expect(fs.lstatSync(docker).isFile()).toBe(true);
    expect(fs.readFileSync(docker, 'utf8')).toContain('ds01-docker-wrapper launcher');
    // The link was ds01's: it is not taken for the site's own docker.
    const backup = path.join(prefix, 'var/lib/ds01/install-backup/usr/local/bin/docker');
    expect(fs.readFileSync(backup, 'utf8')).toBe('#!/bin/sh\necho old docker\n');
    expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toMatchObject({
      kind: 'file',
      backup: '/var/lib/ds01/install-backup/usr/local/bin/docker',
    });
    expect((await installJson(prefix, source)).unchanged).toBe(true);

    await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    expect(snapshot(prefix)).toEqual(before);
  });

  it('replaces a link from an earlier install that had nothing to back up, and --uninstall removes the launcher', async () => {
    const { source, prefix } = setup();
    await installJson(prefix, source);
    const docker = path.join(prefix, dockerPath);
    fs.rmSync(docker);
    fs.symlinkSync('ds01-docker', docker);
    const manifest = manifestOf(prefix);
    manifest.entries = manifest.entries.map((e) => (e.path === dockerPath ? { path: dockerPath, kind: 'link', target: 'ds01-docker' } : e));
    fs.writeFileSync(path.join(prefix, 'var/lib/ds01/install-manifest.json'), JSON.stringify(manifest));

    const upgrade = await installJson(prefix, source);
    expect(dockerItem(upgrade)?.status).toBe('updated');
    expect(fs.lstatSync(docker).isFile()).toBe(true);
    expect(fs.existsSync(path.join(prefix, 'var/lib/ds01/install-backup'))).toBe(false);
    expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toEqual({
      path: dockerPath,
      kind: 'file',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    await runInstall(['--prefix', prefix, '--uninstall', '--json']);
    expect(fs.existsSync(docker)).toBe(false);
  });

  it('refuses to write docker when the template is not built, and leaves the docker already there', async () => {
    const { source, prefix } = setup({ launcherTemplate: false });
    const res = await runInstall(['--prefix', prefix, '--source', source, '--json']);
    expect(res.exitCode).toBe(1);
    const report = JSON.parse(res.stdout) as InstallReport;
    expect(report.missing_bins).toEqual([
      { name: 'docker', why: 'packages/docker-wrapper/dist/docker-launcher.sh.in is not built (run npm run build)' },
    ]);
    expect(dockerItem(report)).toMatchObject({ status: 'failed' });
    expect(dockerItem(report)?.detail).toMatch(/^not installed: packages\/docker-wrapper\/dist\/docker-launcher\.sh\.in is not built/);
    expect(fs.existsSync(path.join(prefix, dockerPath))).toBe(false);
    expect(fs.existsSync(path.join(prefix, 'usr/local/bin/ds01-docker')), 'the rest is installed').toBe(true);
    const text = await runInstall(['--prefix', prefix, '--source', source]);
    expect(text.stdout).toMatch(
      /missing\s+docker: packages\/docker-wrapper\/dist\/docker-launcher\.sh\.in is not built \(run npm run build\)/,
    );
    expect(text.stdout).toMatch(/^\s+failed\s+\/usr\/local\/bin\/docker /m);

    // Built once, then gone (a half-built checkout): the launcher from the earlier run stays, still owned by ds01.
    fs.writeFileSync(path.join(source, 'packages/docker-wrapper/dist/docker-launcher.sh.in'), STAND_IN_LAUNCHER_TEMPLATE);
    await installJson(prefix, source);
    const launcher = fs.readFileSync(path.join(prefix, dockerPath), 'utf8');
    fs.rmSync(path.join(source, 'packages/docker-wrapper/dist/docker-launcher.sh.in'));
    const again = await runInstall(['--prefix', prefix, '--source', source, '--json']);
    expect(again.exitCode).toBe(1);
    expect(fs.readFileSync(path.join(prefix, dockerPath), 'utf8')).toBe(launcher);
    expect(manifestOf(prefix).entries.find((e) => e.path === dockerPath)).toMatchObject({ kind: 'file' });
  });

  it('refuses a template that leaves a placeholder, or is not the launcher', async () => {
    for (const [template, problem] of [
      [`${STAND_IN_LAUNCHER_TEMPLATE}exec '@DS01_GPU_BIN@'\n`, /@DS01_GPU_BIN@ is left after filling in the paths/],
      [STAND_IN_LAUNCHER_TEMPLATE.replace("'@DS01_WRAPPER@'", '@DS01_WRAPPER@'), /@DS01_WRAPPER@ is left/],
      ['#!/bin/sh\nexec /usr/bin/docker "$@"\n', /is not the docker wrapper's launcher/],
    ] as const) {
      const { source, prefix } = setup({ launcherTemplate: template });
      const res = await runInstall(['--prefix', prefix, '--source', source, '--json']);
      expect(res.exitCode).toBe(1);
      const item = dockerItem(JSON.parse(res.stdout) as InstallReport);
      expect(item?.status).toBe('failed');
      expect(item?.detail).toMatch(problem);
      expect(fs.existsSync(path.join(prefix, dockerPath))).toBe(false);
    }
  });
});
