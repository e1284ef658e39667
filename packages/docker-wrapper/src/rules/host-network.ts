import type { Engine } from '@ds01/events-core/engine';
import { Denial } from '../deny.js';

/** Network modes that never name the host's network. */
const PLAIN_MODES = new Set(['', 'default', 'bridge', 'none']);

/**
 * The host network can be named by its id or an id prefix as well as by
 * `host`: each network a request names is looked up, and one with the
 * `host` driver is refused like `--network host`.
 */
export async function refuseHostNetwork(docker: Engine, networks: string[], what: string): Promise<void> {
  for (const n of new Set(networks)) {
    if (PLAIN_MODES.has(n.toLowerCase()) || n.startsWith('container:')) continue;
    if (n.toLowerCase() === 'host') throw hostDenial(what, n);
    const r = await docker.request<{ Name?: string; Driver?: string }>('GET', `/networks/${encodeURIComponent(n)}`);
    if (r.status === 200 && (r.json?.Driver === 'host' || r.json?.Name === 'host')) throw hostDenial(what, n);
  }
}

function hostDenial(what: string, n: string): Denial {
  return new Denial('host-namespace', `${what} ${n} is the host's network`, 'Use your own network, or none.');
}
