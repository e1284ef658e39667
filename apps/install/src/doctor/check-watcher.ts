import fs from 'node:fs';
import path from 'node:path';
import { SITE } from '../layout.js';
import { systemdRunning, unitActive } from '../services.js';
import type { CheckResult, DoctorContext } from './types.js';

export const WATCHER_UNIT = 'ds01-docker-watch.service';

export async function checkWatcher(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'Docker event watcher';
  const unitFile = ctx.at(path.posix.join(SITE.systemdDir, WATCHER_UNIT));
  if (!fs.existsSync(unitFile)) {
    return { id: 'watcher', title, state: 'fail', message: `${SITE.systemdDir}/${WATCHER_UNIT} is not installed`, fix: 'run ds01-install' };
  }
  if (ctx.prefix !== '/')
    return { id: 'watcher', title, state: 'ok', message: `${WATCHER_UNIT} is installed (not checked for activity under --prefix)` };
  if (!systemdRunning()) {
    return {
      id: 'watcher',
      title,
      state: 'warn',
      message: 'systemd is not running here, so the watcher is not supervised',
      fix: 'run ds01-docker-watch under your init system',
    };
  }
  if (await unitActive(WATCHER_UNIT)) return { id: 'watcher', title, state: 'ok', message: `${WATCHER_UNIT} is active` };
  return {
    id: 'watcher',
    title,
    state: 'fail',
    message: `${WATCHER_UNIT} is not active: GPUs of containers removed outside the wrapper are freed only by the cleanup job`,
    fix: `systemctl enable --now ${WATCHER_UNIT}; journalctl -u ${WATCHER_UNIT} says why it stopped`,
  };
}
