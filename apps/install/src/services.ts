import fs from 'node:fs';
import { execa } from 'execa';

/** systemd is PID 1 (the check systemd's own sd_booted() makes). */
export const systemdRunning = (): boolean => fs.existsSync('/run/systemd/system');

export async function systemctl(args: string[]): Promise<{ ok: boolean; out: string }> {
  const res = await execa('systemctl', args, { reject: false, all: true });
  return { ok: res.exitCode === 0, out: (res.all ?? '').trim() };
}

export async function unitActive(unit: string): Promise<boolean> {
  return (await systemctl(['is-active', '--quiet', unit])).ok;
}
