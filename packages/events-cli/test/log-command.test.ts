import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDetailPairs } from '../src/log-command.js';
import { cli, jqLines, run, tempDir } from './helpers/fixtures.js';

function userIds(name: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`test user ${name} missing: run the tests through test-support/run-tests.mjs as root`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

describe('ds01-events log', () => {
  it('parses key=value as strings and key:=json as typed values', () => {
    expect(
      parseDetailPairs(['gpu=0', 'slot=1.2', 'ok=true', 'n:=3', 'list:=[1,"a"]', 'obj:={"x":null}', 'msg=a=b', 'k=1', 'k=2', 'e=']),
    ).toEqual({
      gpu: '0',
      slot: '1.2',
      ok: 'true',
      n: 3,
      list: [1, 'a'],
      obj: { x: null },
      msg: 'a=b',
      k: '2',
      e: '',
    });
    expect(() => parseDetailPairs(['novalue'])).toThrow(/key=value/);
    expect(() => parseDetailPairs(['n:=nope'])).toThrow(/not valid JSON/);
  });

  it('writes an event stamped with the real actor, readable by the query', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const w = await run(
      ['log', 'site.disk_swap', 'disk=sdb', 'slot:=3', 'note=hot swap', '--user', 'bob', '--source', 'ops-script'],
      file,
      {
        env: { DS01_AS_USER: 'alice' },
      },
    );
    expect([w.exitCode, w.stdout, w.stderr]).toEqual([0, '', '']);
    const [e] = await jqLines(fs.readFileSync(file, 'utf8'));
    expect(e).toMatchObject({
      event_type: 'site.disk_swap',
      user: 'bob',
      source: 'ops-script',
      details: { disk: 'sdb', slot: 3, note: 'hot swap' },
      actor: { uid: 0, user: 'root', as_user: 'alice' },
    });
    const q = await run(['--json', '--detail', 'slot=3', '--actor', 'alice'], file);
    expect((await jqLines(q.stdout)).map((x) => x.id)).toEqual([e?.id]);
  });

  it('run by an unprivileged user, records that user as the actor whatever it claims', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const { uid, gid } = userIds('carol');
    const w = await run(['log', 'site.note', 'text=hi', '--user', 'alice', '--source', 'ds01-gpu'], file, {
      uid,
      gid,
      env: { DS01_AS_USER: 'dana' },
    });
    expect(w.exitCode).toBe(0);
    const [e] = await jqLines(fs.readFileSync(file, 'utf8'));
    expect(e?.actor).toEqual({ uid, user: 'carol' });
  });

  it('is best-effort: exit 0 with a warning when the log cannot be written', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const file = path.join(dir, 'not-a-dir', 'events.jsonl');
    const w = await run(['log', 'site.note', 'text=hi'], file);
    expect(w.exitCode).toBe(0);
    expect(w.stderr).toContain('event not logged');
  });

  it('refuses (exit 2, nothing written) a bad type, bad pairs, or details a catalogued type does not allow', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    for (const [args, message] of [
      [['log', 'Bad Type'], 'must look like category.action'],
      [['log', 'site.note', 'oops'], '"oops" is not key=value'],
      [['log', 'site.note', 'n:={'], 'n:={ is not valid JSON'],
      [['log', 'gpu.reject', 'reason=X', 'requested=1'], 'gpu.reject: details/requested must be integer'],
      [['log'], 'Not enough non-option arguments'],
    ] as const) {
      const r = await cli([...args], file);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(fs.existsSync(file)).toBe(false);
    const ok = await cli(['log', 'gpu.reject', 'reason=X', 'requested:=1'], file);
    expect(ok.exitCode).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('"requested":1');
  });
});
