import type { Notice } from '@ds01/events-core/jobs';
import { formatDuration } from '@ds01/events-core/time';
import type { RuntimeMode } from './runtime-ledger.js';

export const JOB = 'ds01-runtime';

/** `2026-11-30 14:05:00 UTC`: what users read; the events carry ISO instants. */
export function utcText(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function hoursText(h: number): string {
  return formatDuration(h * 3_600_000);
}

export interface NoticeFacts {
  container: string;
  id: string;
  type: string;
  runtimeMs: number;
  maxRuntimeH: number;
  limitSource: string;
  mode: RuntimeMode;
  now: number;
}

function clockWords(mode: RuntimeMode): string {
  return mode === 'accumulated'
    ? 'runtime counts every start of this container: stopping and restarting it does not reset the clock'
    : 'runtime counts from the last start of this container';
}

function head(f: NoticeFacts): string {
  return `Your container ${f.container} (${f.id.slice(0, 12)}, type ${f.type}) has run ${formatDuration(f.runtimeMs)} of its maximum runtime of ${hoursText(f.maxRuntimeH)} (max_runtime_h, from ${f.limitSource}; ${clockWords(f.mode)}).`;
}

const SAVE_HINTS = [
  'Save your work now: write checkpoints and results to /workspace (or another mounted volume), push your code,',
  'and note where to resume. The stop sends SIGTERM first, so a job that traps it can write a last checkpoint.',
].join('\n');

function nextSteps(mode: RuntimeMode): string {
  const restart = mode === 'accumulated' ? 'Restarting it will not give it more time. ' : '';
  return `To keep working, start a new container (its clock starts at zero). ${restart}If you need a longer runtime, ask an admin for an exemption (lifecycle-exemptions.yaml, max_runtime_h).`;
}

export function warningNotice(f: NoticeFacts, level: 'first' | 'final', stopAt: number): Notice {
  const when = `${utcText(stopAt)} (in about ${formatDuration(stopAt - f.now)})`;
  return {
    job: JOB,
    severity: level === 'first' ? 'warning' : 'final',
    container: f.container,
    title:
      level === 'first'
        ? `Container ${f.container} will be stopped at ${utcText(stopAt)}: maximum runtime`
        : `FINAL WARNING: container ${f.container} stops at ${utcText(stopAt)}: maximum runtime`,
    body: [head(f), `It will be stopped at ${when}, or at the first check after that.`, SAVE_HINTS, nextSteps(f.mode)].join('\n'),
  };
}

export function stoppedNotice(f: NoticeFacts, graceS: number | null): Notice {
  const grace = graceS === null ? 'SIGTERM, then SIGKILL after Docker’s stop timeout' : `SIGTERM, then SIGKILL after ${graceS}s`;
  return {
    job: JOB,
    severity: 'stopped',
    container: f.container,
    title: `Container ${f.container} was stopped: maximum runtime reached`,
    body: [
      `Your container ${f.container} (${f.id.slice(0, 12)}, type ${f.type}) was stopped at ${utcText(f.now)} (${grace}): it had run ${formatDuration(f.runtimeMs)}, its maximum runtime is ${hoursText(f.maxRuntimeH)} (max_runtime_h, from ${f.limitSource}).`,
      'Its files stay in the stopped container until the cleanup job removes it (container_hold_after_stop_h): copy out what you need with `docker cp`.',
      nextSteps(f.mode),
    ].join('\n'),
  };
}

export function exemptNotice(f: NoticeFacts, reason: string, expires: number | null, leadMs: number): Notice {
  const after =
    expires === null
      ? 'Your exemption is permanent.'
      : `Your exemption ends at ${utcText(expires)}; after that the container will be stopped, with a final warning at least ${formatDuration(leadMs)} ahead.`;
  return {
    job: JOB,
    severity: 'info',
    container: f.container,
    title: `Container ${f.container} passed its maximum runtime and keeps running (exempt)`,
    body: [
      head(f),
      `It was not stopped because you are exempt from max_runtime_h (${reason}).`,
      after,
      'This notice is sent once for this container.',
    ].join('\n'),
  };
}
