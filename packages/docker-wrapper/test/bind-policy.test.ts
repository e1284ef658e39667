import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bindPolicyFor, type WrapperPolicy } from '../src/context.js';
import { hostPathProblem } from '../src/create/bind-mounts.js';

const policy = (allowed: string[] | null): WrapperPolicy => ({
  mode: 'full',
  unknownCommands: 'deny',
  deniedFlags: new Set(['bind-mount']),
  deniedBindMounts: ['/etc'],
  allowedBindMounts: allowed,
});

describe('allowed_bind_mounts for one user', () => {
  it('fills in {home} from the password database and {user}', () => {
    const home = execFileSync('getent', ['passwd', 'root'], { encoding: 'utf8' }).split(':')[5];
    expect(bindPolicyFor(policy(['{home}', '/data/{user}']), 'root').allowed).toEqual([home, '/data/root']);
  });

  it('an entry whose home is / or unknown, or that is not absolute, allows nothing', () => {
    // A user that does not exist has no home; "data" and "{user}" are relative.
    expect(bindPolicyFor(policy(['{home}/x', 'data', '{user}']), 'no-such-user-ds01').allowed).toEqual([]);
    // System accounts such as systemd-network have / as their home: that would allow every path.
    for (const home of ['/', '//', '/.', 'relative'])
      expect(bindPolicyFor(policy(['{home}', '/data']), 'svc', () => home).allowed).toEqual(['/data']);
  });

  it('unset: anything outside the denied list; set: only inside the list, the denied list still first', () => {
    expect(hostPathProblem('/srv/anything', bindPolicyFor(policy(null), 'alice'))).toBeNull();
    const p = bindPolicyFor(policy(['/srv', '/etc']), 'alice');
    expect(hostPathProblem('/srv/data', p)).toBeNull();
    expect(hostPathProblem('/srvx', p)).toBe('is outside the host paths you may mount (/srv, /etc)');
    expect(hostPathProblem('/etc/ssl', p)).toBe('exposes /etc');
    expect(hostPathProblem('/x', bindPolicyFor(policy([]), 'alice'))).toBe('is outside the host paths you may mount (none)');
  });
});
