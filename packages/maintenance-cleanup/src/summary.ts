import type { CleanupReport } from './run-cleanup.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one line a run ends with. */
export function summaryLine(r: CleanupReport): string {
  const c = r.counts;
  const parts = [
    `${c.considered ?? 0} considered`,
    r.dry_run ? `${c.would_remove ?? 0} would be removed` : `${c.removed ?? 0} removed`,
    `${c.kept ?? 0} kept`,
    `${c.changed ?? 0} changed meanwhile`,
    `${c.failed ?? 0} failed`,
  ];
  if (r.command !== 'containers') {
    parts.push(
      `${plural(c.gpu_released ?? 0, 'GPU release')}${r.dry_run ? ' (would be)' : ''}`,
      plural(c.orphan_processes ?? 0, 'orphan GPU process', 'orphan GPU processes'),
      plural(c.orphan_allocations ?? 0, 'orphan allocation'),
    );
  }
  return `ds01-cleanup ${r.command}${r.dry_run ? ' (dry run, nothing changed)' : ''}: ${parts.join(', ')}${r.warnings.length ? `; ${plural(r.warnings.length, 'warning')}` : ''}`;
}
