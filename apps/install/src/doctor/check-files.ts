import fs from 'node:fs';
import path from 'node:path';
import { DIR_MODES, EXPECTED_BINS, PROXY_BIN, SITE } from '../layout.js';
import { gidOf, groupMembers, groupNameOf } from '../owners.js';
import type { CheckResult, DoctorContext } from './types.js';

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** The shims name the script they run; one whose script is gone breaks the command. */
export function checkBins(ctx: DoctorContext): CheckResult {
  const title = 'ds01 commands';
  const missing: string[] = [];
  const broken: string[] = [];
  for (const bin of EXPECTED_BINS) {
    const p = ctx.at(path.posix.join(SITE.binDir, bin));
    if (!statOrNull(p)) {
      missing.push(bin);
      continue;
    }
    const text = fs.readFileSync(p, 'utf8');
    const script = /^exec '[^']*' '([^']*)'/m.exec(text)?.[1];
    if (script && !fs.existsSync(script)) broken.push(`${bin} (runs ${script}, which is gone)`);
  }
  if (missing.length === 0 && broken.length === 0) {
    return { id: 'bins', title, state: 'ok', message: `all ${EXPECTED_BINS.length} commands are in ${SITE.binDir}` };
  }
  const parts = [
    missing.length ? `missing from ${SITE.binDir}: ${missing.join(', ')}` : '',
    broken.length ? `broken: ${broken.join('; ')}` : '',
  ].filter(Boolean);
  return {
    id: 'bins',
    title,
    state: 'fail',
    message: parts.join('; '),
    fix: 'build the checkout (npm ci && npm run build) and run ds01-install again',
  };
}

/** The proxy is installed: the log is root's alone (users' events come through it). */
const behindProxy = (ctx: DoctorContext): boolean => statOrNull(ctx.at(path.posix.join(SITE.binDir, PROXY_BIN))) !== null;

export function checkLogDir(ctx: DoctorContext): CheckResult {
  if (behindProxy(ctx)) return checkRootOnlyLogDir(ctx);
  const title = 'event log directory';
  const dir = ctx.at(SITE.logDir);
  const want = DIR_MODES.logDir;
  const fix = `chown ${want.owner}:${want.group} ${SITE.logDir} && chmod ${octal(want.mode)} ${SITE.logDir} (or run ds01-install)`;
  const st = statOrNull(dir);
  if (!st?.isDirectory()) return { id: 'log-dir', title, state: 'fail', message: `${SITE.logDir} does not exist`, fix };
  const docker = gidOf('docker');
  const problems: string[] = [];
  if (docker === undefined) problems.push('there is no group docker');
  else if (st.gid !== docker)
    problems.push(`its group is ${groupNameOf(st.gid)}, not docker, so the wrapper (running as each user) cannot log`);
  if ((st.mode & 0o020) === 0) problems.push('the group cannot write to it');
  if ((st.mode & 0o2000) === 0) problems.push('it is not setgid, so new log files would not stay in group docker');
  if (problems.length)
    return { id: 'log-dir', title, state: 'fail', message: `${SITE.logDir} (${octal(st.mode)}): ${problems.join('; ')}`, fix };
  const members = groupMembers('docker');
  return {
    id: 'log-dir',
    title,
    state: 'ok',
    message: `${SITE.logDir} is ${octal(st.mode)} group docker: root and the ${members.length} member${members.length === 1 ? '' : 's'} of docker can write`,
  };
}

/** Behind ds01-docker-proxy: nobody but root may write the log (users' events come through their proxy socket). */
function checkRootOnlyLogDir(ctx: DoctorContext): CheckResult {
  const title = 'event log directory';
  const want = DIR_MODES.logDirBehindProxy;
  const fix = `chown ${want.owner}:${want.group} ${SITE.logDir} && chmod ${octal(want.mode)} ${SITE.logDir} (or run ds01-install)`;
  const st = statOrNull(ctx.at(SITE.logDir));
  if (!st?.isDirectory()) return { id: 'log-dir', title, state: 'fail', message: `${SITE.logDir} does not exist`, fix };
  const problems: string[] = [];
  if (st.uid !== 0) problems.push('it is not owned by root');
  if ((st.mode & 0o022) !== 0) problems.push('users can add files to it');
  if (problems.length)
    return { id: 'log-dir', title, state: 'fail', message: `${SITE.logDir} (${octal(st.mode)}): ${problems.join('; ')}`, fix };
  return {
    id: 'log-dir',
    title,
    state: 'ok',
    message: `${SITE.logDir} is ${octal(st.mode)} and root's alone: users' events come through ds01-docker-proxy`,
  };
}

export function checkEventLog(ctx: DoctorContext): CheckResult {
  const title = 'event log file';
  const file = ctx.env.DS01_EVENTS_FILE || ctx.at(SITE.eventsFile);
  const st = statOrNull(file);
  if (behindProxy(ctx)) {
    // Behind the proxy: root writes every event; a user who can write the file can forge them.
    if (!st) return { id: 'event-log', title, state: 'ok', message: `${file} does not exist yet; the first event creates it (root's)` };
    if (st.isFile() && (st.mode & 0o022) === 0)
      return {
        id: 'event-log',
        title,
        state: 'ok',
        message: `${file} is ${octal(st.mode)}: only root writes it (users' events come through the proxy)`,
      };
    return {
      id: 'event-log',
      title,
      state: 'fail',
      message: `${file} (${octal(st.mode)}): users can write to it, and so append forged events`,
      fix: `chown root:root ${file} && chmod 0644 ${file}`,
    };
  }
  if (!st)
    return { id: 'event-log', title, state: 'ok', message: `${file} does not exist yet; the first event creates it (0664, group docker)` };
  const docker = gidOf('docker');
  const problems: string[] = [];
  if (!st.isFile()) problems.push('it is not a regular file');
  if (docker !== undefined && st.gid !== docker) problems.push(`its group is ${groupNameOf(st.gid)}, not docker`);
  if ((st.mode & 0o020) === 0) problems.push('the group cannot append to it');
  if (st.mode & 0o002) problems.push('anyone can write to it');
  if (problems.length) {
    return {
      id: 'event-log',
      title,
      state: 'fail',
      message: `${file} (${octal(st.mode)}): ${problems.join('; ')}`,
      fix: `chgrp docker ${file} && chmod 0664 ${file}`,
    };
  }
  return { id: 'event-log', title, state: 'ok', message: `${file} is ${octal(st.mode)} group docker (users append, nobody else writes)` };
}

export function checkStateDir(ctx: DoctorContext): CheckResult {
  const title = 'state directory';
  const dir = ctx.env.DS01_STATE_DIR || ctx.at(SITE.stateDir);
  const st = statOrNull(dir);
  const fix = `chown root:root ${dir} && chmod 0755 ${dir} (or run ds01-install)`;
  if (!st?.isDirectory()) return { id: 'state-dir', title, state: 'fail', message: `${dir} does not exist`, fix };
  if (st.uid !== 0 || st.mode & 0o022) {
    return {
      id: 'state-dir',
      title,
      state: 'fail',
      message: `${dir} (${octal(st.mode)}, owner uid ${st.uid}): users could change the allocator's state directly`,
      fix,
    };
  }
  return {
    id: 'state-dir',
    title,
    state: 'ok',
    message: `${dir} is ${octal(st.mode)} root: only root (ds01-gpu through sudo, the jobs) writes state`,
  };
}

const EXPECTED_CRON = ['ds01-idle', 'ds01-runtime', 'ds01-cleanup'];

export function checkCron(ctx: DoctorContext): CheckResult {
  const title = 'maintenance cron entries';
  const dir = ctx.at(SITE.cronDir);
  const missing: string[] = [];
  const broken: string[] = [];
  for (const name of EXPECTED_CRON) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      missing.push(name);
      continue;
    }
    for (const cmd of text.matchAll(/(\/usr\/local\/bin\/ds01-[a-z-]+)/g)) {
      if (cmd[1] && !fs.existsSync(ctx.at(cmd[1]))) broken.push(`${name} runs ${cmd[1]}, which is missing`);
    }
  }
  // DS01's own cron files would run the old jobs next to ds01's.
  const legacy: string[] = [];
  try {
    for (const name of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      if (text.includes('/opt/ds01-infra/')) legacy.push(name);
    }
  } catch {
    /* no cron.d */
  }
  const problems = [
    missing.length ? `missing from ${SITE.cronDir}: ${missing.join(', ')}` : '',
    ...broken,
    legacy.length ? `DS01's old cron files still run the old jobs: ${legacy.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length) {
    return {
      id: 'cron',
      title,
      state: missing.length || broken.length ? 'fail' : 'warn',
      message: problems.join('; '),
      fix:
        legacy.length && !missing.length && !broken.length
          ? `remove ${legacy.map((l) => `${SITE.cronDir}/${l}`).join(' ')}`
          : 'run ds01-install (after npm run build)',
    };
  }
  return { id: 'cron', title, state: 'ok', message: `${EXPECTED_CRON.join(', ')} are in ${SITE.cronDir}` };
}

export function checkLogrotate(ctx: DoctorContext): CheckResult {
  const title = 'log rotation';
  const file = ctx.at(SITE.logrotateFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {
      id: 'logrotate',
      title,
      state: 'warn',
      message: `${SITE.logrotateFile} is missing: the event log grows without bound`,
      fix: 'run ds01-install',
    };
  }
  if (/^\s*copytruncate\b/m.test(text)) {
    return {
      id: 'logrotate',
      title,
      state: 'fail',
      message: `${SITE.logrotateFile} uses copytruncate (DS01's setting): events written during rotation are lost`,
      fix: 'run ds01-install to replace it (rotation by rename; ds01 writers reopen the log by path)',
    };
  }
  return { id: 'logrotate', title, state: 'ok', message: `${SITE.logrotateFile} rotates by rename (no copytruncate)` };
}

export function checkSudoers(ctx: DoctorContext, sudoInstalled: boolean): CheckResult {
  const title = 'sudo rule for ds01-gpu';
  const st = statOrNull(ctx.at(SITE.sudoersFile));
  if (!st) {
    return {
      id: 'sudoers',
      title,
      state: 'fail',
      message: `${SITE.sudoersFile} is missing: users' docker run --gpus cannot reach the allocator`,
      fix: 'run ds01-install',
    };
  }
  if ((st.mode & 0o7777) !== 0o440 || st.uid !== 0) {
    return {
      id: 'sudoers',
      title,
      state: 'fail',
      message: `${SITE.sudoersFile} is ${octal(st.mode)} uid ${st.uid}; sudo ignores it unless it is 0440 root`,
      fix: `chown root:root ${SITE.sudoersFile} && chmod 0440 ${SITE.sudoersFile}`,
    };
  }
  if (!sudoInstalled) {
    return {
      id: 'sudoers',
      title,
      state: 'fail',
      message: 'sudo is not installed: the wrapper reaches ds01-gpu through `sudo -n`',
      fix: 'apt-get install sudo',
    };
  }
  return { id: 'sudoers', title, state: 'ok', message: `${SITE.sudoersFile} lets group docker run ds01-gpu as root` };
}
