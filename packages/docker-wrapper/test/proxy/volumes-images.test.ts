import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../../test-support/docker.js';
import { familiarTag, tagWritten } from '../../src/proxy/image-ownership.js';
import { pinImage, routeRequest } from '../../src/proxy/route-request.js';
import { inspectContainer, TEST_LABEL } from '../helpers.js';
import { apiAs, asUser, dockerAs, PROXY_CONFIG, type ProxyBox, startProxy } from './helpers.js';

const LABEL_KEY = TEST_LABEL.split('=')[0]!;

type Labels = Record<string, string> | null;
const volumeLabels = async (name: string): Promise<Labels | undefined> => {
  const r = await dockerApi<{ Labels: Labels }>('GET', `/volumes/${name}`);
  return r.status === 404 ? undefined : (r.json?.Labels ?? null);
};
const image = async (ref: string) => {
  const r = await dockerApi<{ Id: string; Config: { Labels: Labels } }>('GET', `/images/${ref}/json`);
  return r.status === 404 ? null : r.json!;
};

/** wrapper-spec §7 B6: named volumes and images belong to their creator, through the proxy as the real users. */
describeDocker('the proxy: ownership of named volumes and images', () => {
  let box: ProxyBox;
  let bobVol: string;
  let unownedVol: string;
  let bobImage: string;
  let ctxDir: string;
  const volumes: string[] = [];
  const images: string[] = [];

  const denied = (rule: string) =>
    box
      .readEvents()
      .filter((e) => e.event_type === 'auth.denied' && e.user === 'alice' && e.details.rule === rule && e.source === 'ds01-docker-proxy');
  const vol = (prefix: string) => {
    const name = uniqueName(prefix);
    volumes.push(name);
    return name;
  };
  const tag = (prefix: string) => {
    const t = `ds01-test/${uniqueName(prefix)}:1`;
    images.push(t);
    return t;
  };
  /** `docker build` (the legacy builder, as the Debian CLI has no buildx) as the user, through their socket. */
  const buildAs = (user: string, t: string, ...flags: string[]) =>
    asUser(box, user, ['/usr/bin/docker', 'build', '-q', ...flags, '-t', t, ctxDir], undefined, { DOCKER_BUILDKIT: '0' });

  beforeAll(async () => {
    box = await startProxy(['alice', 'bob', 'dana'], undefined, ['--denials-per-minute', '10000']);
    bobVol = vol('bobvol');
    unownedVol = vol('sharedvol');
    const b = await dockerApi('POST', '/volumes/create', { Name: bobVol, Labels: { 'ds01.user': 'bob', [LABEL_KEY]: '1' } });
    const u = await dockerApi('POST', '/volumes/create', { Name: unownedVol, Labels: { [LABEL_KEY]: '1' } });
    if (b.status !== 201 || u.status !== 201) throw new Error(`volumes: ${b.text} ${u.text}`);
    ctxDir = path.join(box.dir, 'build-context');
    fs.mkdirSync(ctxDir, { mode: 0o755 });
    // A LABEL in the Dockerfile cannot claim the image for someone else: the proxy's label is applied after it.
    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), `FROM ${testImage}\nLABEL ${TEST_LABEL} ds01.user=carol\n`);
    bobImage = tag('bob-image');
    const built = await buildAs('bob', bobImage);
    if (built.exitCode !== 0) throw new Error(`bob's build: ${built.stderr}`);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    for (const v of volumes) await dockerApi('DELETE', `/volumes/${v}?force=1`);
    for (const i of images) await dockerApi('DELETE', `/images/${i}?force=1`);
    await box?.stop();
  });

  it('alice’s volume create is labelled hers; a ds01 label of someone else’s is refused', async () => {
    const mine = vol('alicevol');
    const r = await dockerAs(box, 'alice', ['volume', 'create', '--label', TEST_LABEL, mine]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await volumeLabels(mine)).toEqual({ 'ds01.user': 'alice', [LABEL_KEY]: '1' });
    const before = denied('ds01-label').length;
    const forged = vol('forged');
    const f = await dockerAs(box, 'alice', ['volume', 'create', '--label', 'ds01.user=bob', forged]);
    expect(f.exitCode).not.toBe(0);
    expect(String(f.stderr)).toContain('ds01: ds01-label:');
    expect(await volumeLabels(forged)).toBeUndefined();
    // Saying what the proxy writes anyway is accepted (the wrapper in front of the proxy does).
    const own = vol('selflabel');
    expect((await apiAs(box, 'alice', 'POST', '/v1.41/volumes/create', { Name: own, Labels: { 'ds01.user': 'alice' } })).status).toBe(201);
    expect((await volumeLabels(own))?.['ds01.user']).toBe('alice');
    expect(denied('ds01-label').length).toBe(before + 1);
  });

  const mountsOfBob: [string, () => string[]][] = [
    ['-v', () => ['-v', `${bobVol}:/data`]],
    ['-v with options', () => ['-v', `${bobVol}:/data:ro`]],
    ['--mount source=', () => ['--mount', `type=volume,source=${bobVol},target=/data`]],
    ['--mount src= (type left out)', () => ['--mount', `src=${bobVol},dst=/data`]],
  ];

  it.each(mountsOfBob)('mounting bob’s volume with %s is refused (not-owner); no container', async (_what, flags) => {
    const before = denied('not-owner').length;
    const name = uniqueName('alice-steal');
    const r = await dockerAs(box, 'alice', ['run', '-d', '--name', name, '-l', TEST_LABEL, ...flags(), testImage, 'sleep', '30']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toContain(`ds01: not-owner: volume '${bobVol}' belongs to bob`);
    expect(await inspectContainer(name)).toBeNull();
    const events = denied('not-owner').slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]!.details.target).toBe(bobVol);
  });

  it('the raw API: Binds and Mounts of bob’s volume are refused', async () => {
    for (const host of [{ Binds: [`${bobVol}:/data`] }, { Mounts: [{ Type: 'volume', Source: bobVol, Target: '/data' }] }]) {
      const name = uniqueName('alice-raw-steal');
      const r = await apiAs(box, 'alice', 'POST', `/v1.41/containers/create?name=${name}`, {
        Image: testImage,
        Labels: { [LABEL_KEY]: '1' },
        HostConfig: { NetworkMode: 'none', ...host },
      });
      expect(r.status).toBe(403);
      expect((r.json as { message: string }).message).toMatch(/^ds01: not-owner: volume /);
      expect(await inspectContainer(name)).toBeNull();
    }
  });

  it('a volume name that does not exist yet is created labelled hers; an unowned volume can be mounted', async () => {
    const byV = vol('newv');
    const byMount = vol('newmount');
    const name = uniqueName('alice-vols');
    const r = await dockerAs(box, 'alice', [
      'run',
      '--name',
      name,
      '-l',
      TEST_LABEL,
      '--network',
      'none',
      '-v',
      `${byV}:/a`,
      '--mount',
      `type=volume,src=${byMount},dst=/b,volume-label=${TEST_LABEL}`,
      '-v',
      `${unownedVol}:/c`,
      testImage,
      'sh',
      '-c',
      'echo hi > /a/f && echo hi > /b/f && echo hi > /c/f',
    ]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await volumeLabels(byV)).toEqual({ 'ds01.user': 'alice' });
    expect(await volumeLabels(byMount)).toEqual({ 'ds01.user': 'alice', [LABEL_KEY]: '1' });
    expect(await volumeLabels(unownedVol)).toEqual({ [LABEL_KEY]: '1' });
    // A volume-label of ds01's is refused like any other.
    const forged = vol('forgedmount');
    const f = await dockerAs(box, 'alice', [
      'create',
      '-l',
      TEST_LABEL,
      '--mount',
      `type=volume,src=${forged},dst=/b,volume-label=ds01.user=bob`,
      testImage,
    ]);
    expect(String(f.stderr)).toContain('ds01: ds01-label:');
    expect(await volumeLabels(forged)).toBeUndefined();
  });

  it('volume rm: bob’s is refused, an unowned one is refused, her own is removed', async () => {
    const notOwner = denied('not-owner').length;
    const r = await dockerAs(box, 'alice', ['volume', 'rm', bobVol]);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toContain(`ds01: not-owner: volume '${bobVol}' belongs to bob`);
    expect(await volumeLabels(bobVol)).toBeDefined();
    const u = await dockerAs(box, 'alice', ['volume', 'rm', '-f', unownedVol]);
    expect(String(u.stderr)).toContain('ds01: unowned-volume: ');
    expect(String(u.stderr)).toContain('only administrators remove volumes without an owner');
    expect(await volumeLabels(unownedVol)).toBeDefined();
    const mine = vol('alice-rm');
    expect((await dockerAs(box, 'alice', ['volume', 'create', mine])).exitCode).toBe(0);
    const ok = await dockerAs(box, 'alice', ['volume', 'rm', mine]);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(await volumeLabels(mine)).toBeUndefined();
    expect(denied('not-owner').length).toBe(notOwner + 1);
    expect(denied('unowned-volume').at(-1)?.details.target).toBe(unownedVol);
    // Listing and inspecting stay open.
    expect((await dockerAs(box, 'alice', ['volume', 'inspect', bobVol])).exitCode).toBe(0);
  });

  it('a build is labelled hers, whatever the Dockerfile says; a ds01 build label is refused', async () => {
    const t = tag('alice-build');
    const r = await buildAs('alice', t);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((await image(t))!.Config.Labels).toMatchObject({ 'ds01.user': 'alice', [LABEL_KEY]: '1' });
    expect((await image(bobImage))!.Config.Labels?.['ds01.user']).toBe('bob');
    const before = denied('ds01-label').length;
    const forged = tag('forged-build');
    const f = await buildAs('alice', forged, '--label', 'ds01.user=bob');
    expect(String(f.stderr)).toContain('ds01: ds01-label:');
    expect(await image(forged)).toBeNull();
    expect(denied('ds01-label').length).toBe(before + 1);
  });

  it('a commit is labelled hers, even when its changes say otherwise', async () => {
    const name = uniqueName('alice-commit');
    expect((await dockerAs(box, 'alice', ['create', '--name', name, '-l', TEST_LABEL, testImage, 'true'])).exitCode).toBe(0);
    const t = tag('alice-commit');
    const c = await dockerAs(box, 'alice', ['commit', name, t]);
    expect(c.exitCode, String(c.stderr)).toBe(0);
    expect((await image(t))!.Config.Labels?.['ds01.user']).toBe('alice');
    const forged = tag('forged-commit');
    const f = await dockerAs(box, 'alice', ['commit', '-c', 'LABEL ds01.user=bob', name, forged]);
    expect(String(f.stderr)).toContain('ds01: ds01-label:');
    expect(await image(forged)).toBeNull();
    const body = await apiAs(box, 'alice', 'POST', `/v1.41/commit?container=${name}&repo=${forged.split(':')[0]}&tag=1`, {
      Labels: { 'ds01.user': 'bob' },
    });
    expect(body.status).toBe(403);
    expect(await image(forged)).toBeNull();
  });

  it('rmi: bob’s image is refused and stays; her own is removed', async () => {
    const before = denied('not-owner').length;
    for (const args of [
      ['rmi', bobImage],
      ['rmi', '-f', bobImage],
      ['image', 'rm', (await image(bobImage))!.Id.slice(7, 19)],
    ]) {
      const r = await dockerAs(box, 'alice', args);
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(String(r.stderr)).toContain('ds01: not-owner: image ');
    }
    expect((await image(bobImage))?.Config.Labels?.['ds01.user']).toBe('bob');
    expect(denied('not-owner').length).toBe(before + 3);
    const t = tag('alice-rmi');
    expect((await buildAs('alice', t)).exitCode).toBe(0);
    const ok = await dockerAs(box, 'alice', ['rmi', t]);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(await image(t)).toBeNull();
  });

  it('rmi of an unlabelled image is refused (unowned-image), with or without -f; an administrator removes it', async () => {
    const t = tag('unowned');
    const [repo, version] = t.split(':') as [string, string];
    expect((await dockerApi('POST', `/images/${testImage}/tag?repo=${repo}&tag=${version}`)).status).toBe(201);
    const id = (await image(t))!.Id;
    const before = denied('unowned-image').length;
    for (const args of [
      ['rmi', t],
      ['rmi', '-f', t],
      ['image', 'rm', id.slice(7, 19)],
    ]) {
      const r = await dockerAs(box, 'alice', args);
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(String(r.stderr)).toContain('ds01: unowned-image: image ');
      expect(String(r.stderr)).toContain('images without an owner (pulled ones) are shared, and only administrators remove them');
      expect(String(r.stderr)).toContain('Ask an administrator, or remove your own images');
    }
    // Still there, under the same tag, as the engine sees it.
    expect((await image(t))?.Id).toBe(id);
    const events = denied('unowned-image').slice(before);
    expect(events.map((e) => [e.details.operation, e.details.target])).toEqual([
      [`DELETE /images/${t}`, t],
      [`DELETE /images/${t}`, t],
      [`DELETE /images/${id.slice(7, 19)}`, id.slice(7, 19)],
    ]);
    const admin = await dockerAs(box, 'dana', ['rmi', t]);
    expect(admin.exitCode, String(admin.stderr)).toBe(0);
    expect(await image(t)).toBeNull();
    expect(await image(testImage)).not.toBeNull();
  });

  it('tagging over bob’s tag is refused (tag, build -t, commit); a new tag of his image is allowed', async () => {
    const bobId = (await image(bobImage))!.Id;
    const before = denied('not-owner').length;
    const r = await dockerAs(box, 'alice', ['tag', testImage, bobImage]);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toContain(`ds01: not-owner: the tag '${bobImage}' is on bob's image`);
    const b = await buildAs('alice', bobImage);
    expect(String(b.stderr)).toContain('ds01: not-owner: ');
    const name = uniqueName('alice-commit-over');
    expect((await dockerAs(box, 'alice', ['create', '--name', name, '-l', TEST_LABEL, testImage, 'true'])).exitCode).toBe(0);
    const c = await dockerAs(box, 'alice', ['commit', name, bobImage]);
    expect(String(c.stderr)).toContain('ds01: not-owner: ');
    expect((await image(bobImage))!.Id).toBe(bobId);
    expect(denied('not-owner').length).toBe(before + 3);
    const copy = tag('copy-of-bob');
    const ok = await dockerAs(box, 'alice', ['tag', bobImage, copy]);
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect((await image(copy))!.Id).toBe(bobId);
  });

  it('an admin is untouched: mounts and removes others’ volumes, forces the removal of unowned images', async () => {
    const name = uniqueName('dana-mount');
    const run = await dockerAs(box, 'dana', ['run', '--rm', '--name', name, '--network', 'none', '-v', `${bobVol}:/d`, testImage, 'true']);
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const fresh = vol('dana-new');
    expect((await dockerAs(box, 'dana', ['run', '--rm', '--network', 'none', '-v', `${fresh}:/d`, testImage, 'true'])).exitCode).toBe(0);
    // Not created by the proxy for her: docker creates it, unlabelled.
    expect(await volumeLabels(fresh)).toBeNull();
    // The unowned volume of the tests above is in use by alice's container: another one.
    const shared = vol('dana-shared');
    await dockerApi('POST', '/volumes/create', { Name: shared });
    expect((await dockerAs(box, 'dana', ['volume', 'rm', shared])).exitCode).toBe(0);
    expect(await volumeLabels(shared)).toBeUndefined();
    expect((await dockerAs(box, 'dana', ['volume', 'rm', bobVol])).exitCode).toBe(0);
    const t = tag('dana-unowned');
    const [repo, version] = t.split(':') as [string, string];
    await dockerApi('POST', `/images/${testImage}/tag?repo=${repo}&tag=${version}`);
    expect((await dockerAs(box, 'dana', ['rmi', '-f', t])).exitCode).toBe(0);
    expect(box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.user === 'dana')).toEqual([]);
  });
  /**
   * A tag on an image without an owner (pulled, shared: `ubuntu:22.04`) names
   * it for every user: moving it would make bob run alice's image. Only an
   * administrator may move it; re-tagging the same image and new tags stay open.
   */
  describe('a shared tag (an unowned image’s) cannot be moved by a user', () => {
    const SHARED = 'shared-ds01test:1';
    let sharedId: string;
    let aliceImage: string;
    let aliceId: string;
    let tarFile: string;
    const unowned = () => denied('unowned-image').filter((e) => e.details.target === SHARED);
    /** The operations of the unowned-image refusals since `from`. */
    const refusedSince = (from: number) =>
      unowned()
        .slice(from)
        .map((e) => String(e.details.operation));
    const sharedNow = async () => (await image(SHARED))?.Id;

    beforeAll(async () => {
      // Made by root directly against the daemon, as an administrator's pull would.
      images.push(SHARED);
      const r = await dockerApi('POST', `/images/${testImage}/tag?repo=shared-ds01test&tag=1`);
      if (r.status !== 201) throw new Error(`tag ${SHARED}: ${r.text}`);
      sharedId = (await image(SHARED))!.Id;
      expect((await image(SHARED))!.Config.Labels?.['ds01.user']).toBeUndefined();
      aliceImage = tag('alice-own');
      const built = await buildAs('alice', aliceImage);
      if (built.exitCode !== 0) throw new Error(`alice's build: ${built.stderr}`);
      aliceId = (await image(aliceImage))!.Id;
      expect(aliceId).not.toBe(sharedId);
      // A root file system for `docker import`, readable by alice.
      const rootfs = path.join(box.dir, 'rootfs');
      fs.mkdirSync(rootfs, { mode: 0o755 });
      fs.writeFileSync(path.join(rootfs, 'payload'), 'alice\n');
      tarFile = path.join(box.dir, 'rootfs.tar');
      execFileSync('tar', ['-C', rootfs, '-cf', tarFile, 'payload']);
      fs.chmodSync(tarFile, 0o644);
    });

    it('docker tag of her image onto it is refused (unowned-image), in any spelling; the tag stays', async () => {
      const before = unowned().length;
      const r = await dockerAs(box, 'alice', ['tag', aliceImage, SHARED]);
      expect(r.exitCode).not.toBe(0);
      expect(String(r.stderr)).toContain(`ds01: unowned-image: the tag '${SHARED}' is shared`);
      expect(String(r.stderr)).toContain(`e.g. 'alice/${SHARED}'`);
      expect(await sharedNow()).toBe(sharedId);
      // The engine's spellings of the same tag: the registry and library prefix, `latest` left out, a tag in repo replaced by `tag`.
      for (const query of ['repo=docker.io/library/shared-ds01test&tag=1', 'repo=shared-ds01test:other&tag=1']) {
        const raw = await apiAs(box, 'alice', 'POST', `/v1.41/images/${aliceImage}/tag?${query}`);
        expect(raw.status, query).toBe(403);
        expect((raw.json as { message: string }).message).toMatch(/^ds01: unowned-image: /);
      }
      expect(await sharedNow()).toBe(sharedId);
      const latest = tag('shared-latest').replace(/:1$/, '');
      images.push(`${latest}:latest`);
      expect((await dockerApi('POST', `/images/${testImage}/tag?repo=${latest}`)).status).toBe(201);
      const plain = await dockerAs(box, 'alice', ['tag', aliceImage, latest]);
      expect(String(plain.stderr)).toContain(`ds01: unowned-image: the tag '${latest}:latest' is shared`);
      expect((await image(`${latest}:latest`))!.Id).toBe(sharedId);
      const events = unowned().slice(before);
      expect(events).toHaveLength(3);
      expect(events.every((e) => String(e.details.operation).endsWith('/tag'))).toBe(true);
    });

    it('docker build -t onto it is refused, also beside a new tag (none is written)', async () => {
      const before = unowned().length;
      const r = await buildAs('alice', SHARED);
      expect(r.exitCode).not.toBe(0);
      expect(String(r.stderr)).toContain(`ds01: unowned-image: the tag '${SHARED}' is shared`);
      const fresh = tag('alice-beside');
      const two = await buildAs('alice', fresh, '-t', SHARED);
      expect(String(two.stderr)).toContain('ds01: unowned-image: ');
      expect(await image(fresh)).toBeNull();
      expect(await sharedNow()).toBe(sharedId);
      expect(refusedSince(before)).toEqual(['POST /build', 'POST /build']);
    });

    it('docker import and docker commit onto it are refused', async () => {
      const before = unowned().length;
      const imp = await dockerAs(box, 'alice', ['import', tarFile, SHARED]);
      expect(imp.exitCode).not.toBe(0);
      expect(String(imp.stderr)).toContain(`ds01: unowned-image: the tag '${SHARED}' is shared`);
      // The engine imports whenever fromImage is empty, with or without fromSrc.
      const raw = await apiAs(box, 'alice', 'POST', '/v1.41/images/create?repo=shared-ds01test&tag=1');
      expect(raw.status).toBe(403);
      const name = uniqueName('alice-commit-shared');
      expect((await dockerAs(box, 'alice', ['create', '--name', name, '-l', TEST_LABEL, testImage, 'true'])).exitCode).toBe(0);
      const c = await dockerAs(box, 'alice', ['commit', name, SHARED]);
      expect(String(c.stderr)).toContain('ds01: unowned-image: ');
      expect(await sharedNow()).toBe(sharedId);
      expect(refusedSince(before)).toEqual(['POST /images/create', 'POST /images/create', 'POST /commit']);
    });

    it('re-tagging the same image, new tags, a new import and moving her own tag are allowed', async () => {
      const before = denied('unowned-image').length;
      for (const source of [SHARED, testImage, sharedId]) {
        const r = await dockerAs(box, 'alice', ['tag', source, SHARED]);
        expect(r.exitCode, `${source}: ${r.stderr}`).toBe(0);
      }
      expect(await sharedNow()).toBe(sharedId);
      const mine = `alice/${SHARED}`;
      images.push(mine);
      expect((await dockerAs(box, 'alice', ['tag', aliceImage, mine])).exitCode).toBe(0);
      expect((await image(mine))!.Id).toBe(aliceId);
      const copy = tag('copy-of-shared');
      expect((await dockerAs(box, 'alice', ['tag', SHARED, copy])).exitCode).toBe(0);
      expect((await image(copy))!.Id).toBe(sharedId);
      const imported = tag('alice-import');
      const imp = await dockerAs(box, 'alice', ['import', tarFile, imported]);
      expect(imp.exitCode, String(imp.stderr)).toBe(0);
      // Her own tag moves where she likes, onto a shared image too.
      expect((await dockerAs(box, 'alice', ['tag', SHARED, mine])).exitCode).toBe(0);
      expect((await image(mine))!.Id).toBe(sharedId);
      expect(denied('unowned-image').length).toBe(before);
    });

    it('docker rmi cannot free it, so it cannot be created anew on her image', async () => {
      const before = unowned().length;
      for (const args of [
        ['rmi', SHARED],
        ['rmi', '-f', SHARED],
      ]) {
        const r = await dockerAs(box, 'alice', args);
        expect(r.exitCode, args.join(' ')).not.toBe(0);
        expect(String(r.stderr)).toContain(`ds01: unowned-image: image '${SHARED}' has no owner`);
      }
      expect(await sharedNow()).toBe(sharedId);
      const t = await dockerAs(box, 'alice', ['tag', aliceImage, SHARED]);
      expect(String(t.stderr)).toContain('ds01: unowned-image: ');
      expect(await sharedNow()).toBe(sharedId);
      expect(refusedSince(before)).toEqual([`DELETE /images/${SHARED}`, `DELETE /images/${SHARED}`, `POST /images/${aliceImage}/tag`]);
    });

    it('her import is labelled hers, so she may move and remove its tag; a ds01 label in its changes is refused', async () => {
      const imported = tag('alice-import-own');
      const first = await dockerAs(box, 'alice', ['import', '-c', 'LABEL purpose=test', tarFile, imported]);
      expect(first.exitCode, String(first.stderr)).toBe(0);
      const one = (await image(imported))!;
      expect(one.Config.Labels).toEqual({ purpose: 'test', 'ds01.user': 'alice' });
      // Importing again under the same tag moves it off her first import; then she tags her build there, then removes it.
      const again = await dockerAs(box, 'alice', ['import', '-m', 'again', tarFile, imported]);
      expect(again.exitCode, String(again.stderr)).toBe(0);
      const two = (await image(imported))!;
      expect(two.Id).not.toBe(one.Id);
      expect(two.Config.Labels?.['ds01.user']).toBe('alice');
      const moved = await dockerAs(box, 'alice', ['tag', aliceImage, imported]);
      expect(moved.exitCode, String(moved.stderr)).toBe(0);
      expect((await image(imported))!.Id).toBe(aliceId);
      const t2 = tag('alice-import-rm');
      expect((await dockerAs(box, 'alice', ['import', tarFile, t2])).exitCode).toBe(0);
      const rm = await dockerAs(box, 'alice', ['rmi', t2]);
      expect(rm.exitCode, String(rm.stderr)).toBe(0);
      expect(await image(t2)).toBeNull();

      const before = denied('ds01-label').length;
      const forged = tag('forged-import');
      const f = await dockerAs(box, 'alice', ['import', '-c', 'LABEL ds01.protected=true', tarFile, forged]);
      expect(f.exitCode).not.toBe(0);
      expect(String(f.stderr)).toContain("ds01: ds01-label: the change 'LABEL ds01.protected=true' sets a label of ds01's");
      expect(await image(forged)).toBeNull();
      const [forgedRepo] = forged.split(':') as [string];
      const changes = encodeURIComponent('LABEL "ds01.user"="bob"');
      const raw = await apiAs(box, 'alice', 'POST', `/v1.41/images/create?fromSrc=-&repo=${forgedRepo}&tag=1&changes=${changes}`);
      expect(raw.status).toBe(403);
      expect((raw.json as { message: string }).message).toMatch(/^ds01: ds01-label: /);
      expect(await image(forged)).toBeNull();
      expect(
        denied('ds01-label')
          .slice(before)
          .map((e) => e.details.operation),
      ).toEqual(['POST /images/create', 'POST /images/create']);
    });

    it('a pull (fromImage) is not an import: its repo is not checked', async () => {
      // Nothing listens on port 9: the engine fails the pull itself, quickly.
      const r = await apiAs(box, 'alice', 'POST', '/v1.41/images/create?fromImage=127.0.0.1:9/ds01-none&tag=1&repo=shared-ds01test');
      expect(r.status).not.toBe(403);
      expect(await sharedNow()).toBe(sharedId);
    });

    it('parameters in a form body are refused (bad-request): the engine reads them before the query ds01 checks', async () => {
      /** POST with a form body (curl -d: application/x-www-form-urlencoded) as alice: status and body. */
      const formAs = async (path: string, form: string) => {
        const r = await asUser(box, 'alice', [
          '/usr/bin/curl',
          '-s',
          '-S',
          '--unix-socket',
          box.socket('alice'),
          '-X',
          'POST',
          '-w',
          '\n%{http_code}',
          '-d',
          form,
          `http://docker${path}`,
        ]);
        const out = String(r.stdout);
        return { status: Number(out.slice(out.lastIndexOf('\n') + 1)), text: out.slice(0, out.lastIndexOf('\n')) };
      };
      const before = denied('bad-request').length;
      const fresh = tag('form-checked');
      const [freshRepo] = fresh.split(':') as [string];
      for (const [path, form] of [
        [`/v1.41/images/${aliceImage}/tag`, 'repo=shared-ds01test&tag=1'],
        // The engine would take the body's repo over the query's, which ds01 checked.
        [`/v1.41/images/${aliceImage}/tag?repo=${freshRepo}&tag=1`, 'repo=shared-ds01test&tag=1'],
        // ... and the body's filters over the owner filter ds01 adds to a prune.
        ['/v1.41/containers/prune', `filters=${JSON.stringify({ label: [TEST_LABEL] })}`],
      ] as const) {
        const r = await formAs(path, form);
        expect(r.status, path).toBe(403);
        expect(r.text).toContain('ds01: bad-request: the request carries parameters in a form body');
      }
      expect(await sharedNow()).toBe(sharedId);
      expect(await image(fresh)).toBeNull();
      expect(denied('bad-request').length).toBe(before + 3);
      // curl -d '' sends the form type with no body: nothing the engine would read.
      const empty = await formAs(`/v1.41/images/${aliceImage}/tag?repo=${freshRepo}&tag=1`, '');
      expect(empty.status, empty.text).toBe(201);
      expect((await image(fresh))!.Id).toBe(aliceId);
    });

    it('docker load of a tarball that names it is refused (image-load), the tag stays; docker_proxy.allow_image_load lets users load', {
      timeout: 60_000,
    }, async () => {
      // A tarball in which the shared tag names alice's image, as `docker save` writes one.
      const loadTar = path.join(box.dir, 'shared-on-alice.tar');
      const restore = async () => {
        const r = await dockerApi('POST', `/images/${testImage}/tag?repo=shared-ds01test&tag=1`);
        if (r.status !== 201) throw new Error(`tag ${SHARED}: ${r.text}`);
      };
      await dockerApi('POST', `/images/${aliceId}/tag?repo=shared-ds01test&tag=1`);
      execFileSync('/usr/bin/docker', ['save', '-o', loadTar, SHARED], {
        env: { PATH: process.env.PATH, DOCKER_HOST: process.env.DOCKER_HOST },
      });
      fs.chmodSync(loadTar, 0o644);
      await restore();
      expect(await sharedNow()).toBe(sharedId);

      const r = await dockerAs(box, 'alice', ['load', '-i', loadTar]);
      expect(r.exitCode).toBe(1);
      expect(String(r.stderr)).toContain('image-load');
      expect(await sharedNow()).toBe(sharedId);
      expect(denied('image-load').map((e) => e.details.operation)).toEqual(['POST /images/load']);

      // An administrator loads it (and so moves the tag, as an administrator's tag would).
      const admin = await dockerAs(box, 'dana', ['load', '-i', loadTar]);
      expect(admin.exitCode, String(admin.stderr)).toBe(0);
      expect(await sharedNow()).toBe(aliceId);
      await restore();

      // A site that allows users to load takes that risk: her load goes through, and moves the tag.
      const open = await startProxy(['alice'], `${PROXY_CONFIG}docker_proxy:\n  allow_image_load: true\n`);
      try {
        const allowed = await dockerAs(open, 'alice', ['load', '-i', loadTar]);
        expect(allowed.exitCode, String(allowed.stderr)).toBe(0);
        expect(await sharedNow()).toBe(aliceId);
      } finally {
        await open.stop();
        await restore();
      }
    });

    it('an administrator may move it', async () => {
      const r = await dockerAs(box, 'dana', ['tag', aliceImage, SHARED]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(await sharedNow()).toBe(aliceId);
      expect(box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.user === 'dana')).toEqual([]);
    });
  });
});

describe('the tag a request writes, as the engine reads it', () => {
  it('repo and tag (tag, commit, import) and build’s t', () => {
    expect(tagWritten('ubuntu')).toBe('ubuntu:latest');
    expect(tagWritten('ubuntu', '')).toBe('ubuntu:latest');
    expect(tagWritten('ubuntu:22.04')).toBe('ubuntu:22.04');
    // A tag given replaces the one in repo; a digest is dropped (the engine tags `x4:1` for `repo=x4@sha256:…&tag=1`).
    expect(tagWritten('ubuntu:other', '22.04')).toBe('ubuntu:22.04');
    expect(tagWritten(`ubuntu@sha256:${'a'.repeat(64)}`, '22.04')).toBe('ubuntu:22.04');
    expect(tagWritten('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(tagWritten('localhost:5000/x:2')).toBe('localhost:5000/x:2');
  });
  it('printed the way the engine prints it', () => {
    expect(familiarTag('docker.io/library/ubuntu:22.04')).toBe('ubuntu:22.04');
    expect(familiarTag('index.docker.io/library/ubuntu:22.04')).toBe('ubuntu:22.04');
    expect(familiarTag('library/ubuntu:22.04')).toBe('ubuntu:22.04');
    expect(familiarTag('docker.io/alice/x:1')).toBe('alice/x:1');
    expect(familiarTag('docker.io/library/a/b:1')).toBe('library/a/b:1');
    expect(familiarTag('localhost:5000/library/x:1')).toBe('localhost:5000/library/x:1');
  });
  it('routes: import, pull and load are checked; a tag request is pinned to the checked image', () => {
    expect(routeRequest('POST', '/v1.41/images/create?fromSrc=-&repo=x').route.kind).toBe('image-create');
    expect(routeRequest('POST', '/images/create?fromImage=x').route.kind).toBe('image-create');
    expect(routeRequest('POST', '/v1.41/images/load').route.kind).toBe('image-load');
    expect(routeRequest('POST', '/v1.41/images/create/tag?repo=x').route).toEqual({ kind: 'image-tag', name: 'create' });
    expect(pinImage('/v1.41/images/ds01-test/busybox:latest/tag?repo=x&tag=1', 'sha256:ab')).toBe(
      '/v1.41/images/sha256:ab/tag?repo=x&tag=1',
    );
    expect(pinImage('/images/busybox/tag/', 'sha256:ab')).toBe('/images/sha256:ab/tag/');
  });
});
