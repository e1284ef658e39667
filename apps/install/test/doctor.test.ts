import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import type { DoctorReport } from '../src/index.js';
import { countGpus } from '../src/index.js';
import { fakeNvidiaSmi, makeSourceTree, runInstall, tempDir } from './helpers.js';

const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** An installed tree with a stand-in real client at /usr/bin/docker and a stand-in sudo on PATH. */
async function installedHost() {
  const source = makeSourceTree();
  const prefix = tempDir('doctor');
  const stubs = tempDir('stubs');
  cleanup.push(source, prefix, stubs);
  const res = await runInstall(['--prefix', prefix, '--source', source, '--json']);
  expect(res.exitCode).toBe(0);
  fs.mkdirSync(path.join(prefix, 'usr/bin'), { recursive: true });
  fs.writeFileSync(path.join(prefix, 'usr/bin/docker'), '#!/bin/sh\necho real docker\n', { mode: 0o755 });
  fs.writeFileSync(path.join(stubs, 'sudo'), '#!/bin/sh\necho "Sudo version 1.9"\n', { mode: 0o755 });
  const env = {
    PATH: `${stubs}:${process.env.PATH}`,
    DS01_NVIDIA_SMI: fakeNvidiaSmi,
    DS01_FAKE_GPUS: 'mig-mixed',
    DS01_CONFIG: '',
    DS01_EVENTS_FILE: '',
    DS01_STATE_DIR: '',
    DS01_REAL_DOCKER: '',
  };
  return { prefix, env };
}

async function doctor(
  prefix: string,
  env: Record<string, string>,
): Promise<{ code: number | undefined; report: DoctorReport; text: string }> {
  const json = await runInstall(['doctor', '--prefix', prefix, '--json'], env);
  const text = await runInstall(['doctor', '--prefix', prefix], { ...env, NO_COLOR: '1' });
  expect(text.exitCode).toBe(json.exitCode);
  return { code: json.exitCode, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout };
}

const check = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe('countGpus', () => {
  it('counts GPUs, MIG-mode GPUs and slices from nvidia-smi -L', () => {
    const listing = fs.readFileSync(path.join(path.dirname(fakeNvidiaSmi), '../fixtures/nvidia-smi/mig-mixed/list.txt'), 'utf8');
    expect(countGpus(listing)).toEqual({ gpus: 4, migGpus: 2, slices: 11 });
  });
});

describeDocker('ds01-install doctor', () => {
  it('passes on a freshly installed tree and reports GPUs and MIG slices', async () => {
    const { prefix, env } = await installedHost();
    const { code, report, text } = await doctor(prefix, env);
    expect(report.checks.filter((c) => c.state === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(check(report, 'gpus')?.message).toBe('4 GPUs, 2 in MIG mode with 11 MIG slices');
    expect(check(report, 'wrapper-path')?.message).toMatch(
      /the ds01 wrapper's launcher \(.*\/usr\/local\/bin\/docker, running .*\/packages\/docker-wrapper\/dist\/bin\/ds01-docker\.js\), ahead of the real client .*\/usr\/bin\/docker$/,
    );
    expect(check(report, 'docker')?.message).toMatch(/answers \(Docker /);
    // The test daemon runs without userns-remap: a warning that says what it risks and what to set.
    expect(check(report, 'userns')).toMatchObject({
      state: 'warn',
      message: expect.stringMatching(/^off: root in a container is root on the host/),
    });
    expect(check(report, 'userns')?.fix).toContain('"userns-remap": "default"');
    expect(text).toMatch(/^All checks passed/m);
  });

  it('says in plain words what is wrong, with file:line for the config, and exits 1', async () => {
    const { prefix, env } = await installedHost();
    fs.rmSync(path.join(prefix, 'usr/local/bin/docker'));
    fs.rmSync(path.join(prefix, 'etc/cron.d/ds01-runtime'));
    fs.chmodSync(path.join(prefix, 'var/log/ds01'), 0o777);
    fs.writeFileSync(path.join(prefix, 'var/log/ds01/events.jsonl'), '', { mode: 0o666 });
    fs.chmodSync(path.join(prefix, 'var/log/ds01/events.jsonl'), 0o666);
    fs.writeFileSync(path.join(prefix, 'etc/ds01/resource-limits.yaml'), 'defaults:\n  max_gpu_equivalents: lots\n');
    fs.writeFileSync(path.join(prefix, 'etc/logrotate.d/ds01'), '/var/log/ds01/events.jsonl {\n  copytruncate\n}\n');
    const { code, report, text } = await doctor(prefix, { ...env, DS01_FAKE_GPUS: 'driver-failure' });
    expect(code).toBe(1);
    expect(check(report, 'wrapper-path')).toMatchObject({ state: 'fail' });
    expect(check(report, 'wrapper-path')?.message).toMatch(/the real client: the wrapper is bypassed/);
    expect(check(report, 'cron')?.message).toMatch(/missing from \/etc\/cron\.d: ds01-runtime/);
    expect(check(report, 'log-dir')?.message).toMatch(/users can add files to it/);
    expect(check(report, 'event-log')).toMatchObject({ state: 'fail' });
    expect(check(report, 'event-log')?.message).toMatch(/append forged events/);
    expect(check(report, 'config')?.message).toMatch(/resource-limits\.yaml:2: defaults\.max_gpu_equivalents: /);
    expect(check(report, 'logrotate')?.message).toMatch(/copytruncate/);
    expect(check(report, 'gpus')?.message).toMatch(/failed \(exit 9\): NVIDIA-SMI has failed/);
    expect(report.problems).toBe(7);
    expect(text).toMatch(/7 problems found/);
  });

  it('fails when the real client is missing or is the wrapper itself', async () => {
    const { prefix, env } = await installedHost();
    fs.rmSync(path.join(prefix, 'usr/bin/docker'));
    let { report } = await doctor(prefix, env);
    expect(check(report, 'real-client')?.message).toMatch(/\/usr\/bin\/docker \(the default\) does not exist/);
    ({ report } = await doctor(prefix, { ...env, DS01_REAL_DOCKER: '/usr/local/bin/ds01-docker' }));
    expect(check(report, 'real-client')?.message).toMatch(/is the ds01 wrapper itself/);
    ({ report } = await doctor(prefix, { ...env, DS01_REAL_DOCKER: '/usr/local/bin/docker' }));
    expect(check(report, 'real-client')).toMatchObject({ state: 'fail' });
    expect(check(report, 'real-client')?.message).toMatch(/\/usr\/local\/bin\/docker is the ds01 wrapper's launcher itself/);
  });

  it("accepts the link of earlier installs, and fails a launcher that runs another wrapper than ds01-docker's", async () => {
    const { prefix, env } = await installedHost();
    const docker = path.join(prefix, 'usr/local/bin/docker');
    const launcher = fs.readFileSync(docker, 'utf8');
    const wrapper = /^exec '[^']*' '([^']*)' "\$@"$/m.exec(launcher)?.[1] ?? '';
    expect(wrapper).toMatch(/\/packages\/docker-wrapper\/dist\/bin\/ds01-docker\.js$/);

    fs.writeFileSync(docker, launcher.replaceAll(wrapper, '/opt/elsewhere/ds01-docker.cjs'));
    let { code, report } = await doctor(prefix, env);
    expect(code).toBe(1);
    expect(check(report, 'wrapper-path')).toMatchObject({ state: 'fail' });
    expect(check(report, 'wrapper-path')?.message).toBe(
      `users' "docker" is a ds01 launcher (${docker}) that runs /opt/elsewhere/ds01-docker.cjs, not the installed wrapper ${wrapper}`,
    );
    expect(check(report, 'wrapper-path')?.fix).toMatch(
      /installs \/usr\/local\/bin\/docker, the wrapper's launcher, in front of ds01-docker/,
    );

    // Without the marker it is just some other docker.
    fs.writeFileSync(docker, launcher.replace('ds01-docker-wrapper launcher', 'a launcher'));
    ({ report } = await doctor(prefix, env));
    expect(check(report, 'wrapper-path')?.message).toMatch(/, not the ds01 wrapper$/);

    fs.rmSync(docker);
    fs.symlinkSync('ds01-docker', docker);
    ({ code, report } = await doctor(prefix, env));
    expect(check(report, 'wrapper-path')).toMatchObject({ state: 'ok' });
    expect(check(report, 'wrapper-path')?.message).toMatch(/is the ds01 wrapper \(.*\/usr\/local\/bin\/docker\), ahead of the real client/);
    expect(code).toBe(0);
  });

  it('fails when users can open the daemon socket, and says whether ds01-docker-proxy serves sockets', async () => {
    const { prefix, env } = await installedHost();
    const dir = tempDir('open-socket');
    cleanup.push(dir);
    // A directory users can enter, as /run is.
    fs.chmodSync(dir, 0o755);
    const net = await import('node:net');
    const sock = path.join(dir, 'docker.sock');
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      fs.chmodSync(sock, 0o666);
      const open = await doctor(prefix, { ...env, DOCKER_HOST: `unix://${sock}` });
      expect(check(open.report, 'daemon-socket')).toMatchObject({ state: 'fail' });
      expect(check(open.report, 'daemon-socket')?.fix).toContain('docker.socket');
      fs.chmodSync(sock, 0o660);
      const closed = await doctor(prefix, { ...env, DOCKER_HOST: `unix://${sock}` });
      expect(check(closed.report, 'daemon-socket')).toMatchObject({ state: 'ok' });
      // Under --prefix, no proxy socket is a warning; one user's socket is enough.
      expect(check(closed.report, 'docker-proxy')).toMatchObject({ state: 'warn' });
      fs.mkdirSync(path.join(prefix, 'run/ds01/docker/alice'), { recursive: true });
      const proxy = net.createServer().listen(path.join(prefix, 'run/ds01/docker/alice/docker.sock'));
      await new Promise((r) => proxy.once('listening', r));
      try {
        const served = await doctor(prefix, env);
        expect(check(served.report, 'docker-proxy')).toMatchObject({ state: 'ok' });
        expect(check(served.report, 'docker-proxy')?.message).toContain('alice');
      } finally {
        proxy.close();
      }
    } finally {
      server.close();
    }
  });

  it('fails when Docker does not answer', async () => {
    const { prefix, env } = await installedHost();
    const { code, report } = await doctor(prefix, { ...env, DOCKER_HOST: `unix://${prefix}/no.sock` });
    expect(code).toBe(1);
    expect(check(report, 'docker')?.message).toMatch(/does not answer/);
    expect(check(report, 'userns')).toMatchObject({ state: 'warn', message: expect.stringMatching(/^not checked: /) });
  });

  it('says so when the daemon remaps user namespaces', async () => {
    const { prefix, env } = await installedHost();
    const dir = tempDir('userns');
    cleanup.push(dir);
    const http = await import('node:http');
    // A daemon as /info reports it with "userns-remap": "default".
    const server = http.createServer((req, res) => {
      res.setHeader('Content-Type', req.url === '/_ping' ? 'text/plain' : 'application/json');
      if (req.url === '/_ping') res.end('OK');
      else if (req.url === '/info')
        res.end(JSON.stringify({ SecurityOptions: ['name=apparmor', 'name=seccomp,profile=builtin', 'name=userns'] }));
      else res.end(JSON.stringify({ Version: '26.1.5', ApiVersion: '1.45' }));
    });
    const sock = path.join(dir, 'docker.sock');
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const { report } = await doctor(prefix, { ...env, DOCKER_HOST: `unix://${sock}` });
      expect(check(report, 'userns')).toMatchObject({ state: 'ok', message: expect.stringMatching(/^on: /) });
    } finally {
      server.close();
    }
  });
});
