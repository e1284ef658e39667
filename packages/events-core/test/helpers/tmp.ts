import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

/** A fresh temporary directory, world-writable so tests can write into it as unprivileged users. */
export function tempDir(prefix = 'ds01-core-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o777);
  made.push(dir);
  return dir;
}

afterEach(() => {
  while (made.length) fs.rmSync(made.pop() as string, { recursive: true, force: true });
});

export const distEntry = path.resolve(import.meta.dirname, '../../dist/index.js');
export const helper = (name: string) => path.resolve(import.meta.dirname, '..', name);

/** uid/gid of a test user from /etc/passwd (created by test-support/test-users.mjs). */
export function userIds(name: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`test user ${name} missing: run the tests through test-support/run-tests.mjs as root`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export const isRoot = process.getuid?.() === 0;
