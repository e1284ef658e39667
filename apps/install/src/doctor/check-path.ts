import fs from 'node:fs';
import path from 'node:path';
import { execScript, readLauncher } from '../docker-launcher.js';
import { DOCKER_NAME, realDockerPath, SITE, WRAPPER_BIN } from '../layout.js';
import type { CheckResult, DoctorContext } from './types.js';

const DEFAULT_USER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games';

/** The PATH login shells give users (ENV_PATH in /etc/login.defs), as DS01's profile.d relied on. */
export function usersPath(ctx: DoctorContext): string {
  try {
    const m = /^ENV_PATH\s+PATH=(\S+)/m.exec(fs.readFileSync(ctx.at('/etc/login.defs'), 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    /* no login.defs: Debian's default */
  }
  return DEFAULT_USER_PATH;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** The wrapper as installed: the shim (or whatever) at /usr/local/bin/ds01-docker. */
export function wrapperPath(ctx: DoctorContext): string {
  return ctx.at(path.posix.join(SITE.binDir, WRAPPER_BIN));
}

export function realClientPath(ctx: DoctorContext): string {
  return ctx.at(realDockerPath(ctx.env));
}

/** The script the installed ds01-docker shim runs (its `exec '<node>' '<script>'` line). */
function installedWrapperScript(ctx: DoctorContext): string | undefined {
  try {
    return execScript(fs.readFileSync(wrapperPath(ctx), 'utf8'));
  } catch {
    return undefined;
  }
}

const INSTALL_FIX = `run ds01-install (it installs ${SITE.binDir}/${DOCKER_NAME}, the wrapper's launcher, in front of ${WRAPPER_BIN})`;

export function checkWrapperFirst(ctx: DoctorContext): CheckResult {
  const title = 'docker wrapper first on PATH';
  const wrapper = realpathOrSelf(wrapperPath(ctx));
  const real = realpathOrSelf(realClientPath(ctx));
  const pathValue = usersPath(ctx);
  const found: string[] = [];
  for (const dir of pathValue.split(':')) {
    if (!dir) continue;
    const candidate = ctx.at(path.posix.join(dir, DOCKER_NAME));
    if (isExecutable(candidate)) found.push(candidate);
  }
  const first = found[0];
  if (!first) {
    return {
      id: 'wrapper-path',
      title,
      state: 'fail',
      message: `no docker command on users' PATH (${pathValue})`,
      fix: INSTALL_FIX,
    };
  }
  const firstReal = realpathOrSelf(first);
  const shadowed = () => {
    const behind = found.slice(1).find((f) => realpathOrSelf(f) === real);
    return behind ? `, ahead of the real client ${behind}` : '';
  };
  if (firstReal === wrapper) {
    return { id: 'wrapper-path', title, state: 'ok', message: `users' "docker" is the ds01 wrapper (${first})${shadowed()}` };
  }
  // The launcher ds01-install writes: ok when it runs the wrapper the ds01-docker shim runs.
  const launcher = readLauncher(first);
  if (launcher) {
    const script = installedWrapperScript(ctx);
    if (script && launcher.wrapper === script) {
      return {
        id: 'wrapper-path',
        title,
        state: 'ok',
        message: `users' "docker" is the ds01 wrapper's launcher (${first}, running ${script})${shadowed()}`,
      };
    }
    return {
      id: 'wrapper-path',
      title,
      state: 'fail',
      message: `users' "docker" is a ds01 launcher (${first}) that runs ${launcher.wrapper ?? 'no wrapper it names'}, not ${script ? `the installed wrapper ${script}` : `an installed ${WRAPPER_BIN}`}`,
      fix: INSTALL_FIX,
    };
  }
  return {
    id: 'wrapper-path',
    title,
    state: 'fail',
    message: `users' "docker" is ${first}${firstReal === real ? ', the real client: the wrapper is bypassed' : ', not the ds01 wrapper'}`,
    fix: `run ds01-install, and keep ${SITE.binDir} before /usr/bin in PATH (users' PATH: ${pathValue})`,
  };
}

export function checkRealClient(ctx: DoctorContext): CheckResult {
  const title = 'real docker client';
  const real = realClientPath(ctx);
  const which = ctx.env.DS01_REAL_DOCKER ? 'DS01_REAL_DOCKER' : 'the default';
  if (!isExecutable(real)) {
    return {
      id: 'real-client',
      title,
      state: 'fail',
      message: `${real} (${which}) does not exist or is not executable; the wrapper runs it for every command`,
      fix: 'install the Docker client (apt-get install docker.io, or docker-ce-cli), or set DS01_REAL_DOCKER to it',
    };
  }
  const launcher = readLauncher(real) !== undefined;
  if (launcher || realpathOrSelf(real) === realpathOrSelf(wrapperPath(ctx))) {
    return {
      id: 'real-client',
      title,
      state: 'fail',
      message: `${real} is the ds01 wrapper${launcher ? "'s launcher" : ''} itself, so the wrapper would run itself`,
      fix: 'point DS01_REAL_DOCKER at the real client (usually /usr/bin/docker)',
    };
  }
  return { id: 'real-client', title, state: 'ok', message: `${real} exists` };
}
