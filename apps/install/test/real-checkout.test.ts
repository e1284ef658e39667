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
  afterAll(() => fs.rmSync(prefix, { recursive: true, force: true }));

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
});
