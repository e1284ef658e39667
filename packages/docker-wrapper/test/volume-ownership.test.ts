import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { attempt, inspectContainer, makeSandbox, type Sandbox, TEST_LABEL, wrapper } from './helpers.js';

const LABEL_KEY = TEST_LABEL.split('=')[0]!;

type Labels = Record<string, string> | null;
const volumeLabels = async (name: string): Promise<Labels | undefined> => {
  const r = await dockerApi<{ Labels: Labels }>('GET', `/volumes/${name}`);
  return r.status === 404 ? undefined : (r.json?.Labels ?? null);
};

/** wrapper-spec §7 B6 in the wrapper alone (no proxy): named volumes belong to their creator. */
describeDocker('the wrapper: ownership of named volumes', () => {
  let box: Sandbox;
  let bobVol: string;
  let unownedVol: string;
  const volumes: string[] = [];
  const vol = (prefix: string) => {
    const name = uniqueName(prefix);
    volumes.push(name);
    return name;
  };

  beforeAll(async () => {
    box = makeSandbox();
    bobVol = vol('bobvol');
    unownedVol = vol('sharedvol');
    await dockerApi('POST', '/volumes/create', { Name: bobVol, Labels: { 'ds01.user': 'bob' } });
    await dockerApi('POST', '/volumes/create', { Name: unownedVol });
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    for (const v of volumes) await dockerApi('DELETE', `/volumes/${v}?force=1`);
    box.cleanup();
  });

  const alice = () => box.env('alice');
  const denied = (rule: string) => box.readEvents().filter((e) => e.event_type === 'auth.denied' && e.details.rule === rule);

  it('volume create labels the volume as the caller’s (the bin); a ds01 label is refused', async () => {
    const mine = vol('alicevol');
    const r = await wrapper(['volume', 'create', '--label', TEST_LABEL, mine], alice());
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await volumeLabels(mine)).toEqual({ 'ds01.user': 'alice', [LABEL_KEY]: '1' });
    const same = vol('selfvol');
    expect((await wrapper(['volume', 'create', '--label', 'ds01.user=alice', same], alice())).exitCode).toBe(0);
    expect(await volumeLabels(same)).toEqual({ 'ds01.user': 'alice' });
    for (const label of ['ds01.user=bob', 'ds01.protected=true']) {
      const forged = vol('forged');
      const f = await attempt(['volume', 'create', '--label', label, forged], alice());
      expect(f.exitCode).toBe(1);
      expect(f.stderr).toContain('refused (ds01-label)');
      expect(await volumeLabels(forged)).toBeUndefined();
    }
  });

  it('under plain sudo the volume is SUDO_USER’s; an admin’s own owner label stands', async () => {
    const sudo = vol('sudovol');
    const r = await wrapper(['volume', 'create', sudo], box.env(null, { SUDO_USER: 'alice' }));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect((await volumeLabels(sudo))?.['ds01.user']).toBe('alice');
    const given = vol('adminvol');
    expect((await wrapper(['volume', 'create', '--label', 'ds01.user=bob', given], box.env('dana'))).exitCode).toBe(0);
    expect((await volumeLabels(given))?.['ds01.user']).toBe('bob');
  });

  const mounts: [string, () => string[]][] = [
    ['-v NAME:/path', () => ['-v', `${bobVol}:/x`]],
    ['--volume=NAME:/path:ro', () => [`--volume=${bobVol}:/x:ro`]],
    ['--mount source=NAME', () => ['--mount', `source=${bobVol},target=/x`]],
    ['--mount type=volume,src=NAME', () => ['--mount', `type=volume,src=${bobVol},dst=/x`]],
  ];

  it.each(mounts)('run and create with bob’s volume by %s are refused (not-owner); no container', async (_what, flags) => {
    for (const verb of [
      ['run', '-d'],
      ['container', 'create'],
    ]) {
      const before = denied('not-owner').length;
      const name = uniqueName('steal');
      const r = await attempt([...verb, '--name', name, '-l', TEST_LABEL, ...flags(), testImage, 'sleep', '30'], alice());
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toContain(`refused (not-owner): volume '${bobVol}' belongs to bob`);
      expect(await inspectContainer(name)).toBeNull();
      const events = denied('not-owner').slice(before);
      expect(events.map((e) => [e.user, e.details.target])).toEqual([['alice', bobVol]]);
    }
  });

  it('a new volume name is created labelled as the caller’s before docker runs; unowned and own volumes mount', async () => {
    const fresh = vol('fresh');
    const fromMount = vol('freshmount');
    const name = uniqueName('vols');
    const r = await wrapper(
      [
        'run',
        '--name',
        name,
        '-l',
        TEST_LABEL,
        '--network',
        'none',
        '-v',
        `${fresh}:/a`,
        '--mount',
        `source=${fromMount},target=/b`,
        '-v',
        `${unownedVol}:/c`,
        testImage,
        'sh',
        '-c',
        'touch /a/f /b/f /c/f',
      ],
      alice(),
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(await volumeLabels(fresh)).toEqual({ 'ds01.user': 'alice' });
    expect(await volumeLabels(fromMount)).toEqual({ 'ds01.user': 'alice' });
    expect(await volumeLabels(unownedVol)).toBeNull();
    const again = await wrapper(['run', '--rm', '--network', 'none', '-v', `${fresh}:/a`, testImage, 'test', '-f', '/a/f'], alice());
    expect(again.exitCode, String(again.stderr)).toBe(0);
    // Anonymous volumes and host paths are not named volumes.
    const anon = await wrapper(['run', '--rm', '--network', 'none', '-v', '/scratch', testImage, 'true'], alice());
    expect(anon.exitCode, String(anon.stderr)).toBe(0);
  });

  it('a refused create makes no volume', async () => {
    const fresh = vol('never');
    const r = await attempt(['run', '-d', '--privileged', '-l', TEST_LABEL, '-v', `${fresh}:/a`, testImage, 'true'], alice());
    expect(r.stderr).toContain('refused (privileged)');
    expect(await volumeLabels(fresh)).toBeUndefined();
  });

  it('volume rm: bob’s and unowned volumes are refused, her own is removed; admins remove any', async () => {
    for (const verb of ['rm', 'remove']) {
      const r = await attempt(['volume', verb, '-f', bobVol], alice());
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`refused (not-owner): volume '${bobVol}' belongs to bob`);
    }
    const u = await attempt(['volume', 'rm', unownedVol], alice());
    expect(u.exitCode).toBe(1);
    expect(u.stderr).toContain('refused (unowned-volume): ');
    expect(u.stderr).toContain('only administrators remove volumes without an owner');
    // One refused name stops the whole command: nothing is removed.
    const mine = vol('alice-rm');
    expect((await wrapper(['volume', 'create', mine], alice())).exitCode).toBe(0);
    const mixed = await attempt(['volume', 'rm', mine, bobVol], alice());
    expect(mixed.exitCode).toBe(1);
    expect(await volumeLabels(mine)).toBeDefined();
    expect(await volumeLabels(bobVol)).toBeDefined();
    expect(await volumeLabels(unownedVol)).toBeDefined();
    expect(denied('unowned-volume').at(-1)?.details).toMatchObject({ operation: 'volume rm', target: unownedVol });

    const ok = await wrapper(['volume', 'rm', mine], alice());
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(await volumeLabels(mine)).toBeUndefined();
    // A name that does not exist is docker's to report.
    const none = await wrapper(['volume', 'rm', 'no-such-volume-here'], alice());
    expect(String(none.stderr)).toMatch(/no such volume/i);
    expect(String(none.stderr)).not.toContain('ds01');

    const spare = vol('spare');
    await dockerApi('POST', '/volumes/create', { Name: spare, Labels: { 'ds01.user': 'bob' } });
    const admin = await wrapper(['volume', 'rm', spare], box.env('dana'));
    expect(admin.exitCode, String(admin.stderr)).toBe(0);
    expect(await volumeLabels(spare)).toBeUndefined();
  });

  it('an admin mounts another user’s volume untouched', async () => {
    const r = await wrapper(['run', '--rm', '--network', 'none', '-v', `${bobVol}:/x`, testImage, 'true'], box.env('dana'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });
});
