import http from 'node:http';
import type { CheckResult, DoctorContext } from './types.js';

function target(host: string): { socketPath: string } | { host: string; port: number } | undefined {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    try {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      return { host: u.hostname, port: Number(u.port || 2375) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function get(t: object, apiPath: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...t, method: 'GET', path: apiPath, headers: { Host: 'docker' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

export async function checkDockerDaemon(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'Docker daemon';
  const host = ctx.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  const t = target(host);
  if (!t) return { id: 'docker', title, state: 'fail', message: `DOCKER_HOST=${host} is not a unix:// or tcp:// address` };
  try {
    const ping = await get(t, '/_ping', 3000);
    if (ping.status !== 200) throw new Error(`/_ping answered ${ping.status}`);
    let version = '';
    try {
      const v = JSON.parse((await get(t, '/version', 3000)).body) as { Version?: string; ApiVersion?: string };
      version = ` (Docker ${v.Version ?? '?'}, API ${v.ApiVersion ?? '?'})`;
    } catch {
      /* ping is what matters */
    }
    return { id: 'docker', title, state: 'ok', message: `${host} answers${version}` };
  } catch (err) {
    return {
      id: 'docker',
      title,
      state: 'fail',
      message: `${host} does not answer: ${(err as Error).message}`,
      fix: 'start Docker (systemctl start docker) or set DOCKER_HOST to the daemon',
    };
  }
}

/**
 * Root in a container is root on the host unless the daemon remaps user
 * namespaces. ds01 checks bind mounts at create and at each start, but the
 * engine resolves the host path itself a moment later: a user who swaps a
 * directory of theirs for a link in that window can still win it, and a
 * bind mount of another user's readable directory lets them write as root.
 * Remapping closes both, at a price (files in bind-mounted home
 * directories are then written as the remapped uid), so this is a warning,
 * not a failure: the site chooses.
 */
export async function checkUsernsRemap(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'User namespace remapping';
  const host = ctx.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  const t = target(host);
  let options: string[];
  try {
    if (!t) throw new Error('not a unix:// or tcp:// address');
    const info = await get(t, '/info', 3000);
    if (info.status !== 200) throw new Error(`/info answered ${info.status}`);
    options = (JSON.parse(info.body) as { SecurityOptions?: string[] | null }).SecurityOptions ?? [];
  } catch (err) {
    return { id: 'userns', title, state: 'warn', message: `not checked: ${host}: ${(err as Error).message}` };
  }
  if (options.some((o) => o.split(',').includes('name=userns')))
    return { id: 'userns', title, state: 'ok', message: 'on: root in a container is an unprivileged user on the host' };
  return {
    id: 'userns',
    title,
    state: 'warn',
    message:
      "off: root in a container is root on the host, so a bind mount of another user's readable directory can be written to, " +
      "and a user who wins the moment between ds01's check of a bind mount and the engine's mount could mount any host path",
    fix: 'set "userns-remap": "default" in /etc/docker/daemon.json and restart Docker, if your users can live with files in bind mounts owned by the remapped uid',
  };
}
