/** Docker writes `0001-01-01T00:00:00Z` for "never" (a container that never started or stopped). */
export const DOCKER_ZERO_TIME = '0001-01-01T00:00:00Z';

/** An instant from a Docker API time string; null for "never" or anything unparseable. */
export function parseDockerTime(value: string | undefined | null): number | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/** A short human duration: `45s`, `12m`, `3h 05m`, `2d 4h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
