import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { withFileLock } from '@ds01/events-core/state';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { describeDocker, uniqueName } from '../../../test-support/docker.js';
import { BIN, createContainer, type Json, removeContainer, sandbox } from './helpers.js';

describe('ds01-gpu command line', () => {
  it('usage errors exit 2 and name the flag', async () => {
    const sb = sandbox();
    const r = await sb.json(['allocate', '--user', 'alice', '--container', 'x', '--count', '0']);
    expect(r.code).toBe(2);
    expect(r.out.message).toMatch(/--count must be a whole number/);
    const p = await sb.run(['allocate', '--user', 'alice', '--container', 'x', '--prefer', 'any']);
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/prefer/);
    expect((await sb.run(['frobnicate'])).exitCode).toBe(2);
  });

  it('limits: override over group over defaults, members files and user-overrides.yaml, each with its source', async () => {
    const sb = sandbox({
      config: `
defaults: { max_gpu_equivalents: 1, max_gpu_slots_per_container: 1, allow_full_gpu: false, gpu_hold_after_stop_h: 0.25 }
default_group: student
groups:
  student: { max_gpu_equivalents: 2 }
  researcher: { max_slots_unused: 1, max_gpu_slots: 4, allow_full_gpu: true, aggregate: { gpu_limit: 3 } }
user_overrides:
  carol: { max_gpu_equivalents: 0.5 }
`,
    });
    fs.mkdirSync(path.join(sb.dir, 'groups'));
    fs.writeFileSync(path.join(sb.dir, 'groups', 'researcher.members'), '# researchers\nbob\ncarol\n');
    fs.writeFileSync(path.join(sb.dir, 'user-overrides.yaml'), 'carol:\n  gpu_hold_after_stop_h: "30m"\n');
    const alice = (await sb.json(['limits', '--user', 'alice'])).out;
    expect(alice).toMatchObject({ group: 'student', group_source: 'default_group' });
    expect(alice.limits.max_gpu_equivalents).toEqual({ value: 2, source: 'group:student' });
    expect(alice.limits.allow_full_gpu).toEqual({ value: false, source: 'defaults' });
    const bob = (await sb.json(['limits', '--user', 'bob'])).out;
    // max_gpu_slots is DS01's old name of max_gpu_equivalents.
    expect(bob.limits.max_gpu_equivalents).toEqual({ value: 4, source: 'group:researcher' });
    expect(bob.limits.aggregate_gpu_limit).toEqual({ value: 3, source: 'group:researcher' });
    const carol = (await sb.json(['limits', '--user', 'carol'])).out;
    expect(carol.limits.max_gpu_equivalents).toEqual({ value: 0.5, source: 'override' });
    // Overrides layer on the group instead of replacing it (DS01 dropped the group).
    expect(carol.limits.allow_full_gpu).toEqual({ value: true, source: 'group:researcher' });
    expect(carol.limits.gpu_hold_after_stop_h).toEqual({ value: 0.5, source: 'override' });
    const text = await sb.run(['limits', '--user', 'carol']);
    expect(String(text.stdout)).toContain('MAX_GPU_EQUIVALENTS=0.5');
  });

  it('a config error exits 3 with file:line and key', async () => {
    const sb = sandbox({ config: 'defaults:\n  max_gpu_equivalents: lots\n' });
    const r = await sb.json(['status']);
    expect(r.code).toBe(3);
    expect(r.out.status).toBe('error');
    expect(r.out.message).toMatch(/resource-limits\.yaml:2: defaults\.max_gpu_equivalents/);
  });
});

describeDocker('ds01-gpu authorization, failures and locking', () => {
  it('a command line refused for an unknown flag changes nothing: no reservation, no event', async () => {
    const sb = sandbox();
    const name = uniqueName('bogus');
    const r = await sb.json(['allocate', '--user', 'alice', '--container', name, '--bogus']);
    expect(r).toMatchObject({ code: 2, out: { status: 'error', usage: true, message: 'Unknown argument: bogus' } });
    const rel = await sb.json(['release', '--container', name, '--reasonn', 'manual']);
    expect(rel.code).toBe(2);
    const status = await sb.json(['status', '--container', name]);
    expect(status.out.allocations).toEqual([]);
    expect(sb.events('gpu.allocate')).toEqual([]);
    expect(sb.events('gpu.reject')).toEqual([]);
  });

  it('non-admins act only for themselves; admins and sudo callers as the contract says', async () => {
    const sb = sandbox();
    const name = uniqueName('auth');
    const denied = await sb.json(['allocate', '--user', 'bob', '--container', name], { DS01_AS_USER: 'alice' });
    expect(denied).toMatchObject({ code: 1, out: { status: 'rejected', reason: 'PERMISSION_DENIED' } });
    // Under plain sudo the caller is SUDO_USER, with that user's rights.
    const sudo = await sb.json(['allocate', '--user', 'bob', '--container', name], { SUDO_USER: 'alice' });
    expect(sudo.out.reason).toBe('PERMISSION_DENIED');
    // dana is an admin through the ds01-admin group.
    const admin = await sb.json(['allocate', '--user', 'bob', '--container', name], { DS01_AS_USER: 'dana' });
    expect(admin.out).toMatchObject({ status: 'allocated', user: 'bob' });
    const rel = await sb.json(['release', '--container', name], { DS01_AS_USER: 'alice' });
    expect(rel.out.reason).toBe('PERMISSION_DENIED');
    const ok = await sb.json(['release', '--container', name], { DS01_AS_USER: 'bob' });
    expect(ok.out).toMatchObject({ status: 'released', released: [expect.objectContaining({ container: name, reason: 'manual' })] });
    expect(sb.events('gpu.release')).toHaveLength(1);
    expect((await sb.json(['release', '--container', name], { DS01_AS_USER: 'bob' })).out.released).toEqual([]);
  });

  it('a real unprivileged user cannot claim to be someone else', async () => {
    const sb = sandbox();
    fs.chmodSync(sb.dir, 0o777);
    const uid = Number((await execa('id', ['-u', 'alice'])).stdout);
    const gid = Number((await execa('id', ['-g', 'alice'])).stdout);
    const r = await execa(process.execPath, [BIN, 'allocate', '--user', 'bob', '--container', 'x', '--json'], {
      env: { ...process.env, ...sb.env, DS01_AS_USER: 'bob', HOME: '/tmp' },
      uid,
      gid,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(String(r.stdout))).toMatchObject({ reason: 'PERMISSION_DENIED' });
    expect(String(r.stdout)).toContain('alice may not allocate GPUs for bob');
  });

  it('nvidia-smi failing: allocation fails closed with a clear reason, nothing handed out', async () => {
    const sb = sandbox({ scenario: 'driver-failure' });
    const r = await sb.json(['allocate', '--user', 'alice', '--container', uniqueName('x')], { DS01_AS_USER: 'alice' });
    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({ status: 'rejected', reason: 'NVIDIA_SMI_FAILED', retryable: false });
    expect(r.out.message).toMatch(/NVIDIA driver/);
    expect(sb.state().allocations).toEqual([]);
    const st = await sb.json(['status']);
    expect(st.out.inventory_error).toMatch(/NVIDIA driver/);
    const none = await sandbox({ scenario: 'no-gpu' }).json(['allocate', '--user', 'alice', '--container', 'y'], { DS01_AS_USER: 'alice' });
    expect(none.out).toMatchObject({ reason: 'NO_GPU_AVAILABLE', retryable: false });
  });

  it('check answers like allocate and changes nothing; mig-mixed charges the slice weight', async () => {
    const sb = sandbox({
      scenario: 'mig-mixed',
      config: 'defaults: { max_gpu_equivalents: 1, max_gpu_slots_per_container: 3, allow_full_gpu: false }\n',
    });
    const c = await sb.json(['check', '--user', 'alice', '--count', '2']);
    expect(c.out).toMatchObject({ status: 'allocated', check: true, reservation: null });
    expect(c.out.gpus.map((g: { slot: string }) => g.slot)).toEqual(['2.0', '2.1']);
    expect(c.out.usage).toBeCloseTo(5 / 7, 3);
    expect(fs.existsSync(sb.stateFile) ? sb.state().allocations : []).toEqual([]);
    const a = await sb.json(['allocate', '--user', 'alice', '--container', uniqueName('m'), '--count', '2'], { DS01_AS_USER: 'alice' });
    expect(a.out.usage).toBeCloseTo(5 / 7, 3);
    const over = await sb.json(['allocate', '--user', 'alice', '--container', uniqueName('m'), '--count', '3'], { DS01_AS_USER: 'alice' });
    expect(over.out).toMatchObject({ reason: 'USER_AT_LIMIT', retryable: false });
    expect(over.out.message).toMatch(/0\.7143 of your 1 GPU-equivalents/);
    const st = await sb.json(['status']);
    expect(st.out.gpus.filter((g: { mig: boolean }) => !g.mig).map((g: { slot: string }) => g.slot)).toEqual(['0', '1']);
    expect(st.out.summary).toMatchObject({ total_slots: 13, allocated_slots: 2 });
  });

  it('allocate --stdin: end of input cancels, nothing reserved or logged; a bad request is a usage error', async () => {
    const sb = sandbox();
    const session = (input: string, extra: string[] = []) =>
      execa(process.execPath, [BIN, 'allocate', '--stdin', ...extra, '--json'], {
        env: { ...process.env, SUDO_USER: undefined, ...sb.env, DS01_AS_USER: 'alice' },
        input,
        reject: false,
      });
    const none = await session('');
    expect({ code: none.exitCode, out: JSON.parse(none.stdout) }).toEqual({ code: 0, out: { status: 'cancelled' } });
    const bad: [string, RegExp][] = [
      ['go\n', /not JSON/],
      ['{"user":"alice","container":"x","count":0}\n', /"count" must be a whole number of 1 or more \(got 0\)/],
      ['{"user":"","container":"x"}\n', /"user" must be a non-empty string/],
      ['{"user":"alice","container":"x","gpus":"all"}\n', /unknown field\(s\) in the request: gpus/],
    ];
    for (const [input, why] of bad) {
      const r = await session(input);
      expect(r.exitCode).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'error', usage: true, message: expect.stringMatching(why) });
    }
    const mixed = await session('', ['--user', 'alice']);
    expect(mixed.exitCode).toBe(2);
    expect(mixed.stderr).toMatch(/--stdin reads the request from standard input: leave out --user/);
    expect(fs.existsSync(sb.stateFile) ? sb.state().allocations : []).toEqual([]);
    expect(sb.events()).toEqual([]);
  });

  it('allocate --stdin answers the request, then binds the container named on the next line, in one process', async () => {
    const sb = sandbox();
    const name = uniqueName('session');
    const child = execa(process.execPath, [BIN, 'allocate', '--stdin', '--json'], {
      env: { ...process.env, SUDO_USER: undefined, ...sb.env, DS01_AS_USER: 'alice' },
      reject: false,
    });
    const answers = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<Json> => JSON.parse((await answers.next()).value as string);
    child.stdin?.write(`${JSON.stringify({ user: 'alice', container: name, count: 1 })}\n`);
    const answer = await nextLine();
    // The answer comes before the process ends: the state is already written when it does.
    expect(child.exitCode).toBeNull();
    // The user's terminal closing meanwhile (the wrapper has ended) does not lose the bind.
    child.kill('SIGHUP');
    expect(answer).toMatchObject({ status: 'allocated', container: name, user: 'alice' });
    expect(sb.state().allocations).toEqual([expect.objectContaining({ id: answer.reservation, state: 'pending' })]);
    const c = await createContainer({ sb, user: 'alice', name, gpus: answer.gpus.map((g: { uuid: string }) => g.uuid) });
    try {
      child.stdin?.end(`${JSON.stringify({ bind: c.id })}\n`);
      const bound = await nextLine();
      expect(bound).toMatchObject({ status: 'bound', reservation: answer.reservation, container_id: c.id });
      expect((await child).exitCode).toBe(0);
      expect(sb.state().allocations).toEqual([expect.objectContaining({ id: answer.reservation, state: 'active', container_id: c.id })]);
      expect(sb.events('gpu.allocate')).toHaveLength(1);
    } finally {
      await removeContainer(c.id);
    }
  });

  it('allocate --stdin starts its nvidia-smi query before the request comes, and runs it once', async () => {
    const sb = sandbox();
    const log = path.join(sb.dir, 'smi.log');
    const smi = path.join(sb.dir, 'nvidia-smi');
    fs.writeFileSync(smi, `#!/bin/sh\necho "$*" >> ${log}\nexec ${sb.env.DS01_NVIDIA_SMI} "$@"\n`, { mode: 0o755 });
    const name = uniqueName('early-query');
    const child = execa(process.execPath, [BIN, 'allocate', '--stdin', '--json'], {
      env: { ...process.env, SUDO_USER: undefined, ...sb.env, DS01_AS_USER: 'alice', DS01_NVIDIA_SMI: smi },
      reject: false,
    });
    const queried = () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('--query-gpu=');
    for (let i = 0; i < 300 && !queried(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(queried()).toBe(true);
    child.stdin?.end(`${JSON.stringify({ user: 'alice', container: name, count: 1 })}\n`);
    const r = await child;
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'allocated', container: name });
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      '--query-gpu=index,uuid,name,memory.total,mig.mode.current --format=csv,noheader,nounits',
    ]);
  });

  it('a cancelled allocate --stdin ends without waiting for its nvidia-smi query', async () => {
    const sb = sandbox();
    const smi = path.join(sb.dir, 'nvidia-smi');
    fs.writeFileSync(smi, `#!/bin/sh\nsleep 30\nexec ${sb.env.DS01_NVIDIA_SMI} "$@"\n`, { mode: 0o755 });
    const r = await execa(process.execPath, [BIN, 'allocate', '--stdin', '--json'], {
      env: { ...process.env, SUDO_USER: undefined, ...sb.env, DS01_AS_USER: 'alice', DS01_NVIDIA_SMI: smi },
      input: '',
      reject: false,
      timeout: 20_000,
    });
    expect(r.timedOut).toBe(false);
    expect({ code: r.exitCode, out: JSON.parse(r.stdout) }).toEqual({ code: 0, out: { status: 'cancelled' } });
  });

  it('allocate --stdin for another user is refused like the flags are', async () => {
    const sb = sandbox();
    const r = await execa(process.execPath, [BIN, 'allocate', '--stdin', '--json'], {
      env: { ...process.env, SUDO_USER: undefined, ...sb.env, DS01_AS_USER: 'alice' },
      input: `${JSON.stringify({ user: 'bob', container: uniqueName('x') })}\n{"bind":"deadbeef"}\n`,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([expect.objectContaining({ status: 'rejected', reason: 'PERMISSION_DENIED' })]);
    expect(fs.existsSync(sb.stateFile) ? sb.state().allocations : []).toEqual([]);
  });

  it('a held lock makes state changes fail closed with exit 3', async () => {
    const sb = sandbox({ config: 'defaults: { max_gpu_equivalents: 1 }\ngpu_allocation: { lock_timeout_s: 1 }\n' });
    fs.mkdirSync(path.dirname(sb.stateFile), { recursive: true });
    await withFileLock(sb.stateFile, async () => {
      const r = await sb.json(['allocate', '--user', 'alice', '--container', 'x'], { DS01_AS_USER: 'alice' });
      expect(r.code).toBe(3);
      expect(r.out).toMatchObject({ status: 'error' });
      expect(r.out.message).toMatch(/could not lock/);
    });
    expect(fs.existsSync(sb.stateFile)).toBe(false);
  });
});
