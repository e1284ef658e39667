import type Docker from 'dockerode';

export interface StatsCounters {
  cpuNs: number | null;
  netBytes: number | null;
}

interface StatsBody {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

/**
 * Counters from the Docker stats API, for containers whose cgroup or /proc
 * files cannot be read. `one-shot` skips the second sample Docker otherwise
 * waits a second for (API 1.41+; older daemons ignore it and are slower).
 */
export async function readStatsCounters(docker: Docker, id: string): Promise<StatsCounters> {
  try {
    const body = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })) as StatsBody;
    const cpu = body.cpu_stats?.cpu_usage?.total_usage;
    let net: number | null = null;
    for (const n of Object.values(body.networks ?? {})) net = (net ?? 0) + (n.rx_bytes ?? 0) + (n.tx_bytes ?? 0);
    return { cpuNs: typeof cpu === 'number' ? cpu : null, netBytes: net };
  } catch {
    return { cpuNs: null, netBytes: null };
  }
}
