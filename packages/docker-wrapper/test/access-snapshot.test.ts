// The wrapper learns who is an admin from root's JSON snapshot of the site
// config (events-core's config/access-snapshot.ts) while that snapshot is
// current, without loading a YAML parser, and from the YAML again as soon as
// the config changes.
import fs from 'node:fs';
import { settledFileVersion, writeAccessSnapshot } from '@ds01/events-core/config/access-snapshot';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { makeSandbox, type Sandbox, TEST_LABEL, wrapper } from './helpers.js';

describeDocker("the site config from root's access snapshot", () => {
  let box: Sandbox;
  let bobs: string;
  beforeAll(async () => {
    box = makeSandbox();
    bobs = uniqueName('bobs');
    const r = await wrapper(['run', '-d', '--name', bobs, '-l', TEST_LABEL, testImage, 'sleep', '60'], box.env('bob'));
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });
  afterAll(async () => {
    await removeContainersByLabel(TEST_LABEL);
    box.cleanup();
  });

  it('is what the wrapper goes by while the config is the file it was made from, and the YAML once it changes', async () => {
    // A config just written is not recorded (an edit in the same clock tick could keep its times).
    await new Promise((resolve) => setTimeout(resolve, 150));
    fs.mkdirSync(box.state, { recursive: true });
    // Root's snapshot says what the YAML does not: alice is an admin.
    writeAccessSnapshot(
      box.config,
      settledFileVersion(box.config),
      { access_control: { admin_users: ['alice'] } },
      { DS01_STATE_DIR: box.state },
    );
    const asAdmin = await wrapper(['exec', bobs, 'true'], box.env('alice'));
    expect(asAdmin.exitCode, String(asAdmin.stderr)).toBe(0);

    fs.appendFileSync(box.config, '# edited\n');
    const fromYaml = await wrapper(['exec', bobs, 'true'], box.env('alice'));
    expect(fromYaml.exitCode).toBe(1);
    expect(String(fromYaml.stderr)).toContain('refused (not-owner)');
  });
});
