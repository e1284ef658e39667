import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deniedHostPath,
  deviceGpuValue,
  gpuCount,
  parseDockerSize,
  parseGpuValue,
  renderLauncher,
  volumeFlagSource,
} from '../src/index.js';

describe('--gpus values', () => {
  it('reads every form docker accepts', () => {
    expect(parseGpuValue('all')).toMatchObject({ all: true });
    expect(parseGpuValue('2')).toMatchObject({ count: 2 });
    expect(parseGpuValue('count=3')).toMatchObject({ count: 3 });
    expect(parseGpuValue('"device=0,1"').devices).toEqual(['0', '1']);
    expect(parseGpuValue('device=GPU-a').devices).toEqual(['GPU-a']);
    expect(parseGpuValue('"capabilities=compute,utility",count=2')).toMatchObject({ count: 2 });
  });

  it('counts what is asked for (all: the per-container maximum)', () => {
    expect(gpuCount(['all'], 2)).toBe(2);
    expect(gpuCount(['all'], null)).toBe(1);
    expect(gpuCount(['"device=0,2,3"'], 4)).toBe(3);
    expect(gpuCount(['capabilities=utility'], 4)).toBe(1);
    expect(() => gpuCount(['lots'], 1)).toThrow(/--gpus lots/);
  });

  it('quotes several devices so docker reads them as one field (DS01 bug 17)', () => {
    expect(deviceGpuValue(['GPU-a', 'GPU-b'])).toBe('"device=GPU-a,GPU-b"');
  });
});

describe('sizes and host paths', () => {
  it('parses docker sizes and rejects what docker rejects', () => {
    expect(parseDockerSize('1g')).toBe(1024 ** 3);
    expect(parseDockerSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseDockerSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseDockerSize('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseDockerSize('10 gigs')).toBeNull();
  });

  it('denies a denied path, anything inside it, and anything containing it, through symlinks', () => {
    const denied = ['/', '/etc', '/var/run/docker.sock'];
    expect(deniedHostPath('/', denied)).toBe('/');
    expect(deniedHostPath('/etc/shadow', denied)).toBe('/etc');
    expect(deniedHostPath('/var', denied)).toBe('/var/run/docker.sock');
    expect(deniedHostPath('/run', denied)).toBe('/var/run/docker.sock');
    expect(deniedHostPath('/home/alice/data', denied)).toBeNull();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-link-'));
    fs.symlinkSync('/etc', path.join(dir, 'innocent'));
    expect(deniedHostPath(path.join(dir, 'innocent'), denied)).toBe('/etc');
    fs.rmSync(dir, { recursive: true });
  });

  it('reads -v sources: absolute and relative paths are host paths, names are volumes', () => {
    expect(volumeFlagSource('/data:/x', '/home/a')).toBe('/data');
    expect(volumeFlagSource('./d:/x:ro', '/home/a')).toBe('/home/a/d');
    expect(volumeFlagSource('myvol:/x', '/home/a')).toBeNull();
    expect(volumeFlagSource('/anon', '/home/a')).toBeNull();
  });
});

describe('the fast launcher', () => {
  it('is generated from the verb table: pass-through verbs go straight to the real client', () => {
    const text = renderLauncher({ realDocker: '/usr/bin/docker', node: '/usr/bin/node', wrapper: '/opt/w.js' });
    expect(text).toMatch(/^#!\/bin\/sh/);
    const passLine = text.split('\n').find((l) => l.includes('images'))!;
    for (const w of ['images', 'version', 'pull', 'build']) expect(passLine.split(/[|)\s]+/)).toContain(w);
    for (const w of ['run', 'ps', 'exec', 'container', 'compose']) expect(passLine.split(/[|)\s]+/)).not.toContain(w);
  });
});
