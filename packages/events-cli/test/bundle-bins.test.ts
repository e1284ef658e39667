// tools/bundle-bins.mjs's warm-up: a bin's code cache is made by the commands
// its package.json lists, run in a sandbox that never reaches the site, and a
// warm-up command that fails fails the build (no cache is left behind).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fixtures.js';

const bundleBins = path.resolve(import.meta.dirname, '../../../tools/bundle-bins.mjs');

// What the warm-up command saw, written where the test can read it; exits 1 on `fail`.
const BIN_SOURCE = `
const fs = require('node:fs');
const [word, out] = process.argv.slice(2);
fs.appendFileSync(out, JSON.stringify({ word, config: process.env.DS01_CONFIG, sudo: process.env.SUDO_USER ?? null, docker: process.env.DOCKER_HOST }) + '\\n');
process.exit(word === 'fail' ? 1 : 0);
`;

function fakePackage(warmUp: string[][]): { dir: string; seen: string } {
  const dir = tempDir();
  const seen = path.join(dir, 'seen.jsonl');
  fs.mkdirSync(path.join(dir, 'dist/bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'dist/bin/x.js'), BIN_SOURCE);
  const pkg = { name: 'x', bin: { x: './dist/bin/x.cjs' }, ds01: { codeCacheWarmUp: { x: warmUp.map((c) => [...c, seen]) } } };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  return { dir, seen };
}

function build(dir: string) {
  return spawnSync(process.execPath, [bundleBins], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DS01_CONFIG: '/etc/ds01/resource-limits.yaml', SUDO_USER: 'alice', DOCKER_HOST: 'unix:///var/run/docker.sock' },
  });
}

describe('bundle-bins warm-up', () => {
  it('runs each listed command in a sandbox of its own, then leaves a cache the entry uses', () => {
    const { dir, seen } = fakePackage([['one'], ['two']]);
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    const runs = fs
      .readFileSync(seen, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(runs.map((x) => x.word)).toEqual(['one', 'two']);
    for (const x of runs) {
      expect(x.config).toMatch(/ds01-warm-up-[^/]+\/resource-limits\.yaml$/);
      expect(x.docker).toMatch(/^unix:\/\/.*ds01-warm-up-[^/]+\/engine\.sock$/);
      expect(x.sudo).toBeNull();
    }
    const report = spawnSync(process.execPath, [path.join(dir, 'dist/bin/x.cjs'), 'three', seen], {
      encoding: 'utf8',
      env: { ...process.env, DS01_CODE_CACHE_REPORT: '1' },
    });
    expect(report.status).toBe(0);
    expect(report.stderr).toMatch(/ds01 code cache: used/);
  });

  it('fails the build, naming the command, when a warm-up command fails; no cache is left', () => {
    const { dir } = fakePackage([['one'], ['fail']]);
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/`x fail \S+` failed \(exit 1\)/);
    expect(fs.existsSync(path.join(dir, 'dist/bin/x.bundle.cache'))).toBe(false);
  });
});
