import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

function manifests(dir: string) {
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, dir, e.name, 'package.json')))
    .map((e) => ({ dir: `${dir}/${e.name}`, pkg: JSON.parse(fs.readFileSync(path.join(root, dir, e.name, 'package.json'), 'utf8')) }));
}

describe('dependency rule', () => {
  const packages = manifests('packages');
  const workspaceNames = new Set([...packages, ...manifests('apps')].map((m) => m.pkg.name as string));

  it('finds all seven packages', () => {
    expect(packages.map((m) => m.dir).sort()).toEqual(
      [
        'docker-wrapper',
        'events-cli',
        'events-core',
        'gpu-allocator',
        'maintenance-cleanup',
        'maintenance-idle',
        'maintenance-runtime',
      ].map((n) => `packages/${n}`),
    );
  });

  it.each(packages.map((m) => [m.dir, m.pkg] as const))('%s depends on no workspace package but events-core', (_dir, pkg) => {
    const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    const workspaceDeps = Object.keys(deps).filter((d) => workspaceNames.has(d));
    const allowed = pkg.name === '@ds01/events-core' ? [] : ['@ds01/events-core'];
    expect(workspaceDeps.filter((d) => !allowed.includes(d))).toEqual([]);
  });
});
