import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import {
  apiContainer,
  attempt,
  expectNothingInherited,
  inspectContainer,
  labelledImage,
  makeSandbox,
  PRIVILEGED_IMAGE_LABELS,
  removeImage,
  type Sandbox,
  TEST_LABEL,
  wrapper,
} from './helpers.js';

/**
 * The create-time half of the bypass matrix (wrapper-spec §7 and the issue's
 * rules): each attempt is refused with its rule, and the Docker API shows that
 * no container was created.
 */
describeDocker('run/create: every escape is refused and nothing is created', () => {
  let box: Sandbox;
  let bob: string;
  let linkDir: string;
  let labelFile: string;
  let envFile: string;
  let hostNetworkId: string;

  beforeAll(async () => {
    box = makeSandbox();
    hostNetworkId = ((await dockerApi<{ Id: string }>('GET', '/networks/host')).json as { Id: string }).Id;
    bob = uniqueName('bob-victim');
    await apiContainer(bob, { 'ds01.user': 'bob' });
    linkDir = path.join(box.dir, 'looks-harmless');
    fs.symlinkSync('/etc', linkDir);
    labelFile = path.join(box.dir, 'labels');
    fs.writeFileSync(labelFile, '# mine\nproject=x\nds01.user=bob\n');
    envFile = path.join(box.dir, 'env');
    fs.writeFileSync(envFile, 'A=1\nNVIDIA_VISIBLE_DEVICES=all\n');
  });

  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  const cases: [string, string, () => string[]][] = [
    ['ds01-label', '-l ds01.user=bob', () => ['-l', 'ds01.user=bob']],
    ['ds01-label', '--label ds01.user=bob', () => ['--label', 'ds01.user=bob']],
    ['ds01-label', '--label=ds01.managed=false', () => ['--label=ds01.managed=false']],
    ['ds01-label', '-lds01.user= (attached, empty owner)', () => ['-lds01.user=']],
    ['ds01-label', '--label-file with ds01.user', () => ['--label-file', labelFile]],
    ['ds01-label', 'self-declared trust ds01.interface=atomic', () => ['--label', 'ds01.interface=atomic', '--gpus', 'all']],
    ['gpu-env', '-e NVIDIA_VISIBLE_DEVICES=all', () => ['-e', 'NVIDIA_VISIBLE_DEVICES=all']],
    ['gpu-env', '--env CUDA_VISIBLE_DEVICES=0', () => ['--env', 'CUDA_VISIBLE_DEVICES=0']],
    ['gpu-env', '-e NVIDIA_VISIBLE_DEVICES (from the environment)', () => ['-e', 'NVIDIA_VISIBLE_DEVICES']],
    ['gpu-env', '--env-file with NVIDIA_VISIBLE_DEVICES', () => ['--env-file', envFile]],
    ['privileged', '--privileged', () => ['--privileged']],
    ['privileged', '--privileged=true', () => ['--privileged=true']],
    ['host-namespace', '--pid=host', () => ['--pid=host']],
    ['host-namespace', '--pid host', () => ['--pid', 'host']],
    ['host-namespace', '--ipc=host', () => ['--ipc=host']],
    ['host-namespace', '--userns=host', () => ['--userns=host']],
    ['host-namespace', '--uts host', () => ['--uts', 'host']],
    ['host-namespace', '--network host', () => ['--network', 'host']],
    ['host-namespace', '--network <the host network by id prefix>', () => ['--network', hostNetworkId.slice(0, 12)]],
    ['cap-add', '--cap-add SYS_ADMIN', () => ['--cap-add', 'SYS_ADMIN']],
    ['cap-add', '--cap-add=ALL', () => ['--cap-add=ALL']],
    ['device', '--device /dev/nvidia0', () => ['--device', '/dev/nvidia0']],
    ['device', '--device=/dev/sda', () => ['--device=/dev/sda']],
    ['device', '--device-cgroup-rule', () => ['--device-cgroup-rule', 'c 195:* rmw']],
    ['runtime', '--runtime nvidia', () => ['--runtime', 'nvidia']],
    ['runtime', '--runtime=nvidia', () => ['--runtime=nvidia']],
    ['security-opt', '--security-opt seccomp=unconfined', () => ['--security-opt', 'seccomp=unconfined']],
    ['security-opt', '--security-opt apparmor=unconfined', () => ['--security-opt', 'apparmor=unconfined']],
    ['bind-mount', '-v /:/host', () => ['-v', '/:/host']],
    ['bind-mount', '-v /etc:/x', () => ['-v', '/etc:/x']],
    ['bind-mount', '--volume=/var/run/docker.sock:/s', () => ['--volume=/var/run/docker.sock:/s']],
    ['bind-mount', '-v /var:/v (contains the socket)', () => ['-v', '/var:/v']],
    ['bind-mount', '-v symlink-to-/etc', () => ['-v', `${linkDir}:/x`]],
    ['bind-mount', '--mount type=bind,source=/etc', () => ['--mount', 'type=bind,source=/etc,target=/x']],
    ['bind-mount', '--restart always with a bind mount (remounted unchecked)', () => ['--restart', 'always', '-v', `${box.dir}:/x`]],
    [
      'bind-mount',
      '--mount volume-opt device=/etc',
      () => ['--mount', 'type=volume,target=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc'],
    ],
    ['cgroup-parent', '--cgroup-parent=/', () => ['--cgroup-parent=/']],
    ['cgroup-parent', '--cgroup-parent system.slice', () => ['--cgroup-parent', 'system.slice']],
    ['cgroup-parent', "--cgroup-parent of bob's slice", () => ['--cgroup-parent', 'ds01-student-bob.slice']],
    ['not-owner', '--volumes-from victim', () => ['--volumes-from', bob]],
    ['not-owner', '--network container:victim', () => ['--network', `container:${bob}`]],
    ['not-owner', '--pid container:victim', () => ['--pid', `container:${bob}`]],
    ['not-owner', '--ipc=container:victim', () => ['--ipc=container:victim'.replace('victim', bob)]],
    ['not-owner', '--link victim:db', () => ['--link', `${bob}:db`]],
    ['limits', '-m 4g (above 1g)', () => ['-m', '4g']],
    ['limits', '--memory=4g', () => ['--memory=4g']],
    ['limits', '--cpus 8', () => ['--cpus', '8']],
    ['limits', '--pids-limit -1', () => ['--pids-limit', '-1']],
    ['limits', '--shm-size 1g', () => ['--shm-size', '1g']],
  ];

  it.each(cases)('%s: %s', async (rule, _label, extra) => {
    for (const verb of [
      ['run', '-d'],
      ['container', 'create'],
    ]) {
      const name = uniqueName('escape');
      const r = await attempt([...verb, '--name', name, '-l', TEST_LABEL, ...extra(), testImage, 'sleep', '30'], box.env('alice'));
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toContain(`refused (${rule})`);
      expect(await inspectContainer(name)).toBeNull();
    }
  });

  it('the bin refuses the same way (a few escapes through dist/bin/ds01-docker.cjs)', async () => {
    for (const extra of [['--privileged'], ['-v', '/:/host'], ['-l', 'ds01.user=bob']]) {
      const name = uniqueName('escape');
      const r = await wrapper(['run', '-d', '--name', name, ...extra, testImage, 'true'], box.env('alice'));
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toMatch(/refused \(/);
      expect(await inspectContainer(name)).toBeNull();
    }
  });

  it('also refuses with a global flag before the verb (docker -D run ...)', async () => {
    const name = uniqueName('escape');
    const r = await attempt(['-D', 'run', '-d', '--name', name, '--privileged', testImage, 'true'], box.env('alice'));
    expect(r.exitCode).toBe(1);
    expect(await inspectContainer(name)).toBeNull();
  });

  it('logs auth.denied for each refusal with the rule and the user', () => {
    const denied = box.readEvents().filter((e) => e.event_type === 'auth.denied');
    expect(denied.length).toBeGreaterThanOrEqual(cases.length * 2);
    expect(new Set(denied.map((e) => e.details.rule))).toEqual(new Set([...cases.map((c) => c[0])]));
    expect(denied.every((e) => e.user === 'alice' && e.details.operation !== undefined)).toBe(true);
  });

  it('labels, slice and limits are the wrapper’s; flags after the image belong to the container', async () => {
    const name = uniqueName('ok');
    const r = await wrapper(
      [
        'run',
        '-d',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        '-l',
        'devcontainer.local_folder=/home/bob/x',
        testImage,
        'sh',
        '--privileged',
        '--label',
        'ds01.user=bob',
        '--gpus',
        'all',
      ],
      box.env('alice'),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels).toMatchObject({
      'ds01.user': 'alice',
      'ds01.managed': 'true',
      'ds01.container_type': 'devcontainer',
      'ds01.slice': 'ds01-student-alice.slice',
    });
    expect(c.Config.Labels['ds01.created_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(c.HostConfig).toMatchObject({
      Privileged: false,
      CgroupParent: 'ds01-student-alice.slice',
      Memory: 1024 ** 3,
      NanoCpus: 1e9,
      PidsLimit: 256,
      ShmSize: 64 * 1024 ** 2,
    });
    expect(c.HostConfig.DeviceRequests ?? []).toEqual([]);
    expect(c.Config.Env).toContain('NVIDIA_VISIBLE_DEVICES=void');
    const ev = box.readEvents().find((e) => e.event_type === 'container.create' && e.details.container === name);
    expect(ev).toMatchObject({ user: 'alice', details: { container_id: c.Id, image: testImage, container_type: 'devcontainer' } });
  });

  it('a Dockerfile cannot exempt a container from the maintenance jobs nor claim GPUs for it (inherited ds01 labels are blanked)', async () => {
    const image = await labelledImage(PRIVILEGED_IMAGE_LABELS);
    try {
      const name = uniqueName('inherit');
      const r = await wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, image], box.env('alice'));
      expect(r.exitCode, String(r.stderr)).toBe(0);
      await expectNothingInherited(name, 'alice');
    } finally {
      await removeContainersByLabel(TEST_LABEL);
      await removeImage(image);
    }
  });

  it('accepts limits within the maximum and the user’s own slice', async () => {
    const name = uniqueName('ok');
    const r = await wrapper(
      ['create', '--name', name, '-l', TEST_LABEL, '-m', '512m', '--cpus=0.5', '--cgroup-parent', 'ds01-student-alice.slice', testImage],
      box.env('alice'),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.HostConfig).toMatchObject({ Memory: 512 * 1024 ** 2, NanoCpus: 5e8, CgroupParent: 'ds01-student-alice.slice' });
  });

  it('admins pass unchecked but their containers are still labelled (owner: the sudo user)', async () => {
    const name = uniqueName('admin');
    const env = box.env(null, { SUDO_USER: 'carol' });
    const r = await wrapper(
      ['create', '--name', name, '-l', TEST_LABEL, '-l', 'ds01.protected=true', '--cap-add', 'SYS_PTRACE', testImage],
      env,
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const c = (await inspectContainer(name))!;
    expect(c.Config.Labels).toMatchObject({ 'ds01.user': 'carol', 'ds01.protected': 'true', 'ds01.slice': 'ds01-student-carol.slice' });
  });

  it('enforces max_containers_per_user', async () => {
    const tight = makeSandbox(`defaults:\n  max_containers_per_user: 1\n`);
    await removeContainersByLabel('ds01.user=carol');
    try {
      const first = uniqueName('one');
      const second = uniqueName('two');
      expect((await wrapper(['create', '--name', first, '-l', TEST_LABEL, testImage], tight.env('carol'))).exitCode).toBe(0);
      const r = await wrapper(['create', '--name', second, '-l', TEST_LABEL, testImage], tight.env('carol'));
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain('refused (max-containers)');
      expect(await inspectContainer(second)).toBeNull();
    } finally {
      await removeContainersByLabel('ds01.user=carol');
      tight.cleanup();
    }
  });

  it("keeps the memory limits of a user's running containers within aggregate.memory_max (§7 D24)", async () => {
    const site = makeSandbox(`defaults:\n  memory: 512m\n  aggregate:\n    memory_max: 1G\n`);
    await removeContainersByLabel('ds01.user=carol');
    try {
      const run = (name: string, ...flags: string[]) =>
        wrapper(['run', '-d', '--name', name, '-l', TEST_LABEL, ...flags, testImage, 'sleep', '300'], site.env('carol'));
      const [a, b, c, d, e] = ['agg-a', 'agg-b', 'agg-c', 'agg-d', 'agg-e'].map((n) => uniqueName(n)) as [
        string,
        string,
        string,
        string,
        string,
      ];
      expect((await run(a)).exitCode).toBe(0); // the default 512m: 0.5G of 1G committed
      // A created, never started container holds no memory and does not count.
      expect((await wrapper(['create', '--name', e, '-l', TEST_LABEL, testImage], site.env('carol'))).exitCode).toBe(0);
      // `-m` is read (DS01 ignored it), in any unit docker accepts (DS01 failed open on `gb`): 0.75G, then 1G.
      expect((await run(b, '-m', '256m')).exitCode).toBe(0);
      expect((await run(c, '-m', '0.25gb')).exitCode).toBe(0);
      const over = await run(d);
      expect(over.exitCode).toBe(1);
      expect(String(over.stderr)).toContain('refused (aggregate-memory)');
      expect(String(over.stderr)).toContain('1.0G of your 1.0G');
      expect(await inspectContainer(d)).toBeNull();
      const denied = site.readEvents().filter((ev) => ev.event_type === 'auth.denied');
      expect(denied.map((ev) => ev.details.rule)).toEqual(['aggregate-memory']);
      // Stopping one frees its share, and starting it again is checked like a create.
      expect((await wrapper(['stop', '-t', '0', a], site.env('carol'))).exitCode).toBe(0);
      expect((await run(d)).exitCode).toBe(0);
      const restart = await wrapper(['start', a], site.env('carol'));
      expect(restart.exitCode).toBe(1);
      expect(String(restart.stderr)).toContain('refused (aggregate-memory)');
      expect((await inspectContainer(a))?.State?.Running).toBe(false);
    } finally {
      await removeContainersByLabel('ds01.user=carol');
      site.cleanup();
    }
  });

  it('site policy: denied_flags can allow a rule, denied_bind_mounts adds paths', async () => {
    const site = makeSandbox(
      `access_control:\n  wrapper:\n    denied_flags: [privileged, bind-mount]\n    denied_bind_mounts: [/srv/secret]\n`,
    );
    try {
      const ok = uniqueName('capok');
      const r = await wrapper(['create', '--name', ok, '-l', TEST_LABEL, '--cap-add', 'NET_ADMIN', testImage], site.env('alice'));
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect((await inspectContainer(ok))!.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
      const no = uniqueName('srv');
      const r2 = await wrapper(['create', '--name', no, '-l', TEST_LABEL, '-v', '/srv/secret/x:/x', testImage], site.env('alice'));
      expect(r2.exitCode).toBe(1);
      expect(String(r2.stderr)).toContain('refused (bind-mount)');
      expect(await inspectContainer(no)).toBeNull();
    } finally {
      site.cleanup();
    }
  });
});
