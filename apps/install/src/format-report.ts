import type { ItemStatus } from './apply-item.js';
import type { DoctorReport } from './doctor/run-doctor.js';
import type { InstallReport } from './install.js';

export interface Style {
  green: (s: string) => string;
  red: (s: string) => string;
  yellow: (s: string) => string;
  dim: (s: string) => string;
}

const plain = (s: string) => s;
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  if (!stream.isTTY || env.NO_COLOR !== undefined) return { green: plain, red: plain, yellow: plain, dim: plain };
  const wrap = (code: number) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2) };
}

const WOULD: Partial<Record<ItemStatus, string>> = {
  created: 'would create',
  updated: 'would update',
  removed: 'would remove',
  restored: 'would restore',
};

export function formatInstallReport(r: InstallReport, s: Style): string {
  const lines: string[] = [];
  const where = r.prefix === '/' ? '' : ` under ${r.prefix}`;
  lines.push(`ds01-install${r.action === 'uninstall' ? ' --uninstall' : ''}${where}${r.dry_run ? ' (dry run: nothing is changed)' : ''}`);
  for (const i of r.items) {
    const label = (r.dry_run && WOULD[i.status]) || i.status;
    const colour =
      i.status === 'failed' ? s.red : i.status === 'unchanged' || i.status === 'kept' || i.status === 'skipped' ? s.dim : s.green;
    lines.push(`  ${colour(label.padEnd(12))} ${i.path}  ${s.dim(i.what)}${i.detail ? `: ${i.detail}` : ''}`);
  }
  for (const m of r.missing_bins) lines.push(s.yellow(`  missing      ${m.name}: ${m.why}`));
  for (const w of r.warnings.filter((w) => !r.missing_bins.some((m) => w.startsWith(`${m.name} is not installed`)))) {
    lines.push(s.yellow(`  warning: ${w}`));
  }
  const count = (st: ItemStatus) => r.items.filter((i) => i.status === st).length;
  if (r.action === 'install') {
    if (r.unchanged) lines.push('unchanged: everything was already installed as it is now.');
    else {
      lines.push(
        `${r.dry_run ? 'would change' : 'done'}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged${count('removed') ? `, ${count('removed')} removed` : ''}. Manifest: ${r.manifest}`,
      );
    }
    if (r.failed) lines.push(s.red('Some items could not be installed (see "failed" above).'));
    else if (!r.dry_run) lines.push('Next: ds01-install doctor (checks the host), and edit /etc/ds01/resource-limits.yaml for your site.');
  } else {
    lines.push(
      `${r.dry_run ? 'would remove' : 'removed'}: ${count('removed')} removed, ${count('restored')} restored, ${count('kept')} kept. The event log and state are data and stay.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatDoctorReport(r: DoctorReport, s: Style): string {
  const mark = { ok: s.green('ok  '), warn: s.yellow('warn'), fail: s.red('FAIL') };
  const lines = ['ds01 doctor' + (r.prefix === '/' ? '' : ` (tree under ${r.prefix})`)];
  for (const c of r.checks) {
    const [first, ...rest] = c.message.split('\n');
    lines.push(`  ${mark[c.state]}  ${c.title}: ${first}`);
    for (const more of rest) lines.push(`          ${more}`);
    if (c.fix && c.state !== 'ok') lines.push(`          ${s.dim('→')} ${c.fix}`);
  }
  lines.push(
    r.ok
      ? `All checks passed${r.warnings ? ` (${r.warnings} warning${r.warnings === 1 ? '' : 's'})` : ''}.`
      : s.red(
          `${r.problems} problem${r.problems === 1 ? '' : 's'} found${r.warnings ? `, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}` : ''}.`,
        ),
  );
  return `${lines.join('\n')}\n`;
}
