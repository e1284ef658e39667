import type { GpuRef } from './state/types.js';

export type ExitCode = 0 | 1 | 2 | 3;

/** What a command answers: JSON for `--json`, KEY=VALUE lines otherwise. */
export interface CommandResult {
  code: ExitCode;
  json: Record<string, unknown>;
  lines: string[];
}

export function round(n: number): number {
  return Number(n.toFixed(4));
}

export function gpuJson(gpus: GpuRef[]): { uuid: string; slot: string; weight: number }[] {
  return gpus.map((x) => ({ uuid: x.uuid, slot: x.slot, weight: round(x.weight) }));
}

/** A value safe to `eval` in a shell and still plain for `cut -d= -f2` when it has no special characters. */
export function kv(key: string, value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /^[A-Za-z0-9_.,:/@%+-]*$/.test(s) ? `${key}=${s}` : `${key}='${s.replace(/'/g, `'\\''`)}'`;
}

export function refused(reason: string, message: string, extra: Record<string, unknown> = {}): CommandResult {
  return {
    code: 1,
    json: { status: 'rejected', reason, retryable: false, message, ...extra },
    lines: [kv('STATUS', 'FAILED'), kv('REASON', reason), kv('MESSAGE', message)],
  };
}

export function releasedJson(a: { container: string; container_id: string | null; user: string; gpus: GpuRef[] }, reason: string) {
  return { container: a.container, container_id: a.container_id, user: a.user, gpus: gpuJson(a.gpus), reason };
}
