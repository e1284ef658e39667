import { formatDuration } from '@ds01/events-core/time';
import { KEEP_ALIVE_PATH } from './sample/read-keep-alive.js';

/** A UTC time people can read at a glance: `2026-11-30 14:05:09 UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export interface NoticeFacts {
  name: string;
  idleMs: number;
  timeoutMs: number;
  highDemand: boolean;
  keepAliveMaxMs: number | null;
  gpus: string;
}

function howToKeep(f: NoticeFacts): string {
  const lines = [
    'To keep it running:',
    `  - use it: run something in it (any CPU, GPU or network work, or an attached \`docker exec -it ${f.name} sh\`);`,
  ];
  if (f.keepAliveMaxMs !== null) {
    lines.push(`  - or run \`touch ${KEEP_ALIVE_PATH}\` inside it: this postpones the stop by up to ${formatDuration(f.keepAliveMaxMs)};`);
  }
  lines.push('  - or, for long idle stretches that are part of your work, ask an admin for an idle exemption.');
  return lines.join('\n');
}

function idleLine(f: NoticeFacts): string {
  const demand = f.highDemand ? ' (shortened: most GPUs are allocated right now)' : '';
  return `Your container ${f.name}${f.gpus ? ` (GPU ${f.gpus})` : ''} has shown no activity for ${formatDuration(f.idleMs)}; its idle timeout is ${formatDuration(f.timeoutMs)}${demand}.`;
}

export function warningText(level: 'first' | 'final', f: NoticeFacts, stopAt: number): { title: string; body: string } {
  const title =
    level === 'first'
      ? `Idle container ${f.name} will be stopped at ${utc(stopAt)}`
      : `Last warning: idle container ${f.name} will be stopped at ${utc(stopAt)}`;
  const body = `${idleLine(f)}\nIt will be stopped at ${utc(stopAt)} or at the first check after that, unless it becomes active.\n${howToKeep(f)}`;
  return { title, body };
}

export function stoppedText(f: NoticeFacts): { title: string; body: string } {
  return {
    title: `Idle container ${f.name} was stopped`,
    body: `${idleLine(f)}\nIt was stopped to free its GPU for others. Nothing was deleted: start it again with \`docker start ${f.name}\` while it is kept (stopped containers are removed later by the cleanup job).`,
  };
}

export function exemptText(f: NoticeFacts, reason: string): { title: string; body: string } {
  return {
    title: `Idle container ${f.name} (you are exempt; it will not be stopped)`,
    body: `${idleLine(f)}\nYou are exempt from the idle timeout (${reason}), so it keeps running. Please stop it yourself when you no longer need the GPU: \`docker stop ${f.name}\`.`,
  };
}

export function keepAliveText(f: NoticeFacts, until: number): { title: string; body: string } {
  return {
    title: `Keep-alive: idle container ${f.name} is kept until ${utc(until)}`,
    body: `${idleLine(f)}\nThe file ${KEEP_ALIVE_PATH} postpones the stop until ${utc(until)} (at most ${f.keepAliveMaxMs === null ? '?' : formatDuration(f.keepAliveMaxMs)} past the due time, however often it is touched). After that it will be stopped unless it becomes active.`,
  };
}
