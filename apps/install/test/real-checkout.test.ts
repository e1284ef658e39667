import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { InstallReport } from '../src/index.js';
import { EXPECTED_BINS } from '../src/index.js';
import { repoRoot, runInstall, tempDir } from './helpers.js';

// The checkout this test runs in, built by `npm test` before the suite: what a site installs.
describe('ds01-install from this checkout', () => {
  const prefix = tempDir('real');
  const launcherPrefix = tempDir('real-launcher');
  const fakes = tempDir('real-fakes');
  afterAll(() => {
    for (const dir of [prefix, launcherPrefix, fakes]) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('installs every ds01 command, each answering --help, every maintenance cron entry and the watcher unit', async () => {
    const res = await runInstall(['--prefix', prefix, '--json']);
    expect(res.exitCode).toBe(0);
    const report = JSON.parse(res.stdout) as InstallReport;
    expect(report.missing_bins).toEqual([]);
    for (const bin of EXPECTED_BINS) {
      const help = await execa(path.join(prefix, 'usr/local/bin', bin), ['--help'], { reject: false });
      expect(help.exitCode, `${bin} --help: ${help.stderr}`).toBe(0);
    }
    const crons = fs.readdirSync(path.join(prefix, 'etc/cron.d')).sort();
    expect(crons).toEqual(['ds01-cleanup', 'ds01-idle', 'ds01-runtime']);
    for (const cron of crons) {
      const line = fs
        .readFileSync(path.join(prefix, 'etc/cron.d', cron), 'utf8')
        .split('\n')
        .find((l) => /^[*\d]/.test(l));
      expect(line, cron).toMatch(new RegExp(`^\\S+ \\S+ \\S+ \\S+ \\S+ root /usr/local/bin/${cron}\\b`));
    }
    const unit = fs.readFileSync(path.join(prefix, 'etc/systemd/system/ds01-docker-watch.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/ds01-docker-watch\b/m);
    expect(fs.readFileSync(path.join(prefix, 'usr/local/bin/ds01-gpu'), 'utf8')).toContain(
      path.join(repoRoot, 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs'),
    );
  });

  it("installs docker as the wrapper's own launcher: pass-through verbs to the real client, the rest to ds01-docker", async () => {
    const log = path.join(fakes, 'calls');
    const real = path.join(fakes, 'docker');
    fs.writeFileSync(real, `#!/bin/sh\necho "real $*" >> ${log}\n`, { mode: 0o755 });
    const res = await runInstall(['--prefix', launcherPrefix, '--json'], { DS01_REAL_DOCKER: real });
    expect(res.exitCode).toBe(0);
    const docker = path.join(launcherPrefix, 'usr/local/bin/docker');
    const wrapper = path.join(repoRoot, 'packages/docker-wrapper/dist/bin/ds01-docker.cjs');
    // The template the wrapper's build wrote, with this site's paths.
    const template = fs.readFileSync(path.join(repoRoot, 'packages/docker-wrapper/dist/docker-launcher.sh.in'), 'utf8');
    expect(fs.readFileSync(docker, 'utf8')).toBe(
      template
        .replaceAll("'@DS01_REAL_DOCKER@'", `'${real}'`)
        .replaceAll("'@DS01_NODE@'", `'${process.execPath}'`)
        .replaceAll("'@DS01_WRAPPER@'", `'${wrapper}'`)
        .replaceAll("'@DS01_PROXY_SOCKET_DIR@'", "'/run/ds01/docker'"),
    );
    expect(fs.readFileSync(docker, 'utf8')).not.toMatch(/@DS01_/);
    expect(fs.statSync(docker).mode & 0o7777).toBe(0o755);
    // `version` never starts Node: the launcher execs the client it was given at install time, whatever the caller's env says.
    const env = { ...process.env, DS01_REAL_DOCKER: '/nonexistent/docker' };
    const version = await execa(docker, ['version'], { env, reject: false });
    expect(version.exitCode).toBe(0);
    expect(fs.readFileSync(log, 'utf8')).toBe('real version\n');
    // `ps` is the wrapper's: it reads DS01_REAL_DOCKER itself, and says so when it names nothing.
    const ps = await execa(docker, ['ps'], { env, reject: false });
    expect(ps.exitCode).not.toBe(0);
    expect(ps.stderr).toMatch(/the real docker client \/nonexistent\/docker does not exist/);
    expect(fs.readFileSync(log, 'utf8')).toBe('real version\n');
  });
});
