import { formatDuration } from '@ds01/events-core/time';
import type { Action, ContainerReport, RunReport } from './enforce-runtime.js';
import { utcText } from './notices.js';

/** One log line for a container: what was (or would be) done and why. */
export function describeContainer(r: ContainerReport, dryRun: boolean): string {
  const who = `${r.name} (${r.id.slice(0, 12)}, ${r.user ?? 'no owner'}, ${r.type})`;
  const ran = r.runtime_s === undefined ? '' : ` ran ${formatDuration(r.runtime_s * 1000)}`;
  const max = r.max_runtime_h === undefined || r.max_runtime_h === null ? '' : ` of max ${formatDuration(r.max_runtime_h * 3_600_000)}`;
  const stop = r.stop_at ? `; stop at ${utcText(Date.parse(r.stop_at))}` : '';
  const would = dryRun ? 'would ' : '';
  const verb: Record<Action, string> = {
    skip: 'skipped',
    not_running: 'not running',
    no_limit: 'no limit',
    ok: 'ok',
    wait: 'warned, waiting',
    first_warning: `${would}send first warning`,
    final_warning: `${would}send final warning`,
    stop: dryRun ? 'would stop' : 'stopped',
    exempt: 'exempt',
    exempt_notice: `exempt, ${would}notify once`,
  };
  const outcome = r.outcome === 'skipped' ? ` (not done: ${r.detail})` : r.detail && r.outcome === 'done' ? ` (${r.detail})` : '';
  return `${verb[r.action]}: ${who}${ran}${max}${stop}: ${r.reason}${outcome}`;
}

/** The line that ends every run. */
export function summaryLine(report: RunReport): string {
  const c = report.counts;
  const parts = [
    `${c.considered ?? 0} considered`,
    `${c.first_warnings ?? 0} first warnings`,
    `${c.final_warnings ?? 0} final warnings`,
    `${c.stopped ?? 0} stopped`,
    `${c.exempt_notices ?? 0} exempt notices`,
    `${c.skipped_changed ?? 0} skipped (changed meanwhile)`,
    `${report.failures} failed`,
  ];
  return `${report.dry_run ? 'dry run (nothing changed): ' : ''}${parts.join(', ')}`;
}
