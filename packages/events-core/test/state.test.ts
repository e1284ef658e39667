import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, StateFile, withFileLock } from '../src/state/index.js';
import { distEntry, tempDir } from './helpers/tmp.js';

const run = promisify(execFile);
const stateModule = distEntry.replace('index.js', 'state/index.js');

describe('state files', () => {
  it('serialises updates from many processes: no lost increments, always valid JSON', async () => {
    const file = path.join(tempDir(), 'counter.json');
    const script = `
      const { StateFile } = await import(${JSON.stringify(stateModule)});
      const s = new StateFile(process.argv[1], () => ({ n: 0, log: [] }));
      for (let i = 0; i < 25; i++) await s.update((d) => { d.n += 1; d.log.push(process.pid); });
    `;
    await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, ['--input-type=module', '-e', script, file])));
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(data.n).toBe(150);
    expect(data.log).toHaveLength(150);
  }, 60_000);

  it('fails closed with a clear error when the lock cannot be had in time, and changes nothing', async () => {
    const file = path.join(tempDir(), 'state.json');
    const state = new StateFile(file, () => ({ v: 1 }), { timeoutMs: 300 });
    await state.update((d) => {
      d.v = 2;
    });
    let inner: unknown;
    await withFileLock(file, async () => {
      inner = await state
        .update((d) => {
          d.v = 3;
        })
        .catch((e) => e);
    });
    expect(inner).toBeInstanceOf(LockTimeoutError);
    expect(String((inner as Error).message)).toMatch(/could not lock .*state\.json within 0\.\ds.*nothing was changed/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ v: 2 });
  });

  it('writes nothing when the update function throws', async () => {
    const file = path.join(tempDir(), 'state.json');
    const state = new StateFile(file, () => ({ v: 1 }));
    await state.update((d) => {
      d.v = 5;
    });
    await expect(
      state.update((d) => {
        d.v = 6;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await state.read()).data).toEqual({ v: 5 });
  });

  it('moves a corrupt file aside and tells the caller so it can rebuild', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, '{"allocations": [ {"trunc');
    const state = new StateFile(file, () => ({ allocations: [] as string[] }));
    const seen = await state.update((d, ctx) => {
      d.allocations.push('rebuilt');
      return ctx.recovered;
    });
    expect(seen?.error).toMatch(/SyntaxError/);
    expect(seen?.movedTo).toMatch(/state\.json\.corrupt-/);
    expect(fs.readFileSync(seen?.movedTo as string, 'utf8')).toBe('{"allocations": [ {"trunc');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ allocations: ['rebuilt'] });
  });

  it('takes over the lock of a holder that was killed', async () => {
    const file = path.join(tempDir(), 'state.json');
    const script = `
      const { withFileLock } = await import(${JSON.stringify(stateModule)});
      await withFileLock(process.argv[1], async () => { process.kill(process.pid, 'SIGKILL'); });
    `;
    await run(process.execPath, ['--input-type=module', '-e', script, file]).catch(() => {});
    expect(fs.existsSync(`${file}.lock`)).toBe(true);
    const state = new StateFile(file, () => ({ v: 1 }), { timeoutMs: 15_000, staleMs: 2000 });
    await state.update((d) => {
      d.v = 9;
    });
    expect((await state.read()).data).toEqual({ v: 9 });
  }, 30_000);
});
