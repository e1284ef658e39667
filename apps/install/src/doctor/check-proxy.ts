import fs from 'node:fs';
import path from 'node:path';
import { SITE } from '../layout.js';
import type { CheckResult, DoctorContext } from './types.js';

function groupName(gid: number): string {
  try {
    const line = fs
      .readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    return line?.split(':')[0] ?? String(gid);
  } catch {
    return String(gid);
  }
}

/** A directory above the path that no one but root can pass through (root-owned group, no x for others). */
function closedAncestor(p: string): string | null {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    try {
      const st = fs.statSync(dir);
      const m = st.mode & 0o777;
      if (st.uid === 0 && !(m & 0o001) && (st.gid === 0 || !(m & 0o010))) return dir;
    } catch {
      return null;
    }
    if (dir === '/') return null;
  }
}

/**
 * The daemon's own socket must be root-only: anyone who can open it bypasses
 * every ds01 rule (wrapper-spec §7 A1). Checked on the socket DOCKER_HOST
 * names, as the host has it (not under --prefix: it is a running daemon).
 */
export function checkDaemonSocket(ctx: DoctorContext): CheckResult {
  const id = 'daemon-socket';
  const title = 'Docker socket closed to users';
  const host = ctx.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://'))
    return { id, title, state: 'warn', message: `DOCKER_HOST=${host} is not a unix socket; who can reach it is not checked here` };
  const sock = host.slice('unix://'.length);
  let st: fs.Stats;
  try {
    st = fs.statSync(sock);
  } catch (err) {
    return { id, title, state: 'warn', message: `${sock}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const mode = st.mode & 0o777;
  const shut = closedAncestor(sock);
  if (shut) return { id, title, state: 'ok', message: `${sock} lies inside ${shut}, which only root can enter` };
  const fix = `install the docker.socket drop-in (${SITE.dockerSocketDropIn}, written by ds01-install) and run: systemctl daemon-reload && systemctl restart docker.socket docker`;
  if (mode & 0o006)
    return { id, title, state: 'fail', message: `${sock} is mode ${mode.toString(8)}: every user can open it and bypass ds01`, fix };
  if (mode & 0o060 && st.gid !== 0)
    return {
      id,
      title,
      state: 'fail',
      message: `${sock} is group ${groupName(st.gid)} with mode ${mode.toString(8)}: its members can open it and bypass ds01`,
      fix,
    };
  return { id, title, state: 'ok', message: `${sock} is root-only (mode ${mode.toString(8)}, group ${groupName(st.gid)})` };
}

/** ds01-docker-proxy serves users: its socket directory holds <user>/docker.sock sockets. */
export function checkProxySockets(ctx: DoctorContext): CheckResult {
  const id = 'docker-proxy';
  const title = 'ds01-docker-proxy sockets';
  const dir = ctx.at(SITE.proxySocketDir);
  let users: string[] = [];
  try {
    users = fs.readdirSync(dir).filter((u) => {
      try {
        return fs.statSync(path.join(dir, u, 'docker.sock')).isSocket();
      } catch {
        return false;
      }
    });
  } catch {
    users = [];
  }
  if (users.length > 0)
    return {
      id,
      title,
      state: 'ok',
      message: `${users.length} user socket(s) in ${dir} (${users.slice(0, 5).join(', ')}${users.length > 5 ? ', ...' : ''})`,
    };
  // Under --prefix nothing runs: the service creates its sockets on the real host.
  const state = ctx.prefix === '/' ? 'fail' : 'warn';
  return {
    id,
    title,
    state,
    message: `no user socket in ${dir}: users cannot reach Docker once its socket is root-only`,
    fix: 'systemctl enable --now ds01-docker-proxy (and check: journalctl -u ds01-docker-proxy)',
  };
}
