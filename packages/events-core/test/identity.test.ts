import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { adminPolicyOf, getCallerIdentity, IdentityError } from '../src/identity/index.js';
import { distEntry, isRoot, userIds } from './helpers/tmp.js';

const run = promisify(execFile);
const policy = adminPolicyOf({ access_control: { admin_users: ['carol'], admin_group: 'ds01-admin' } });

describe.runIf(isRoot)('caller identity', () => {
  it('root acting as a user through DS01_AS_USER has exactly that user’s identity and rights', () => {
    const alice = getCallerIdentity(policy, { DS01_AS_USER: 'alice' });
    expect(alice).toMatchObject({ user: 'alice', uid: userIds('alice').uid, isAdmin: false, actingAs: true, realUid: 0, owner: 'alice' });
    expect(alice.groups).toContain('docker');
    expect(getCallerIdentity(policy, { DS01_AS_USER: 'dana' })).toMatchObject({
      user: 'dana',
      isAdmin: true,
      adminReason: 'member of ds01-admin',
    });
    expect(getCallerIdentity(policy, { DS01_AS_USER: 'carol' })).toMatchObject({
      isAdmin: true,
      adminReason: 'access_control.admin_users',
    });
    expect(() => getCallerIdentity(policy, { DS01_AS_USER: 'no-such-user-xyz' })).toThrow(IdentityError);
  });

  it('under plain sudo root keeps its rights and SUDO_USER only names the owner', () => {
    const id = getCallerIdentity(policy, { SUDO_USER: 'bob' });
    expect(id).toMatchObject({ user: 'root', uid: 0, isAdmin: true, adminReason: 'uid 0', sudoUser: 'bob', owner: 'bob', actingAs: false });
  });

  it('a non-root process cannot change who it is', async () => {
    const { uid, gid } = userIds('alice');
    const script = `import('${distEntry.replace('index.js', 'identity/index.js')}').then(m => console.log(JSON.stringify(m.getCallerIdentity({adminUsers: ['alice']}, process.env))))`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      uid,
      gid,
      env: { ...process.env, DS01_AS_USER: 'dana', SUDO_USER: 'dana' },
    });
    const id = JSON.parse(stdout);
    expect(id).toMatchObject({ user: 'alice', uid, actingAs: false, owner: 'alice', ignoredAsUser: 'dana', isAdmin: true });
    expect(id.sudoUser).toBeUndefined();
  });
});
