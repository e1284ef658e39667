import { Engine } from '@ds01/events-core/engine';
import { loadContext, type WrapperContext } from '../context.js';

/** One socket user's rules: the wrapper's context for that user (identity, policy, config) and the upstream engine. */
export interface UserSession {
  user: string;
  ctx: WrapperContext;
  docker: Engine;
}

/** Variables a proxy must not pass on to the rules or to ds01-gpu: they would change who is acting. */
const IDENTITY_VARS = ['SUDO_USER', 'SUDO_UID', 'SUDO_GID', 'DS01_WRAPPER_BYPASS', 'DS01_ISOLATION_MODE', 'DOCKER_HOST', 'DOCKER_CONTEXT'];

/**
 * Sessions by user, each built once and kept until the next reload (SIGHUP,
 * the periodic rescan). The proxy runs as root, so DS01_AS_USER makes
 * events-core's identity exactly that user's: groups, admin status, owner.
 */
export class Sessions {
  private readonly cache = new Map<string, Promise<UserSession>>();
  constructor(
    private readonly upstream: string,
    private readonly baseEnv: NodeJS.ProcessEnv,
  ) {}

  get(user: string): Promise<UserSession> {
    let s = this.cache.get(user);
    if (!s) {
      s = this.build(user);
      // A failure (unknown user, unreadable config) is not kept: the next request tries again.
      s.catch(() => this.cache.delete(user));
      this.cache.set(user, s);
    }
    return s;
  }

  reload(): void {
    this.cache.clear();
  }

  private async build(user: string): Promise<UserSession> {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, DS01_AS_USER: user, DOCKER_HOST: this.upstream };
    for (const k of IDENTITY_VARS) if (k !== 'DOCKER_HOST') delete env[k];
    const ctx = await loadContext(env);
    return { user, ctx, docker: new Engine(this.upstream) };
  }
}
