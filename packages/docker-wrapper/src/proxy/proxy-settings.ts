import type { SiteConfig } from '@ds01/events-core/config';

export const DEFAULT_SOCKET_DIR = '/run/ds01/docker';

/** The `docker_proxy:` block of the site config. */
export interface ProxyConfigBlock {
  socket_dir?: string | null;
  upstream?: string | null;
  users_group?: string | null;
  allow_image_load?: boolean;
}

export interface ProxySettings {
  socketDir: string;
  upstream: string;
  /** Fixed users (`--users`): no rescans of the config for users. */
  users: string[] | null;
  usersGroup: string | null;
  /** `auth.denied` events per user and minute; the rest are counted in one event. */
  denialsPerMinute: number;
}

export const DEFAULT_DENIALS_PER_MINUTE = 60;

export interface ProxyFlags {
  socketDir?: string | undefined;
  upstream?: string | undefined;
  users?: string[] | undefined;
  denialsPerMinute?: number | undefined;
}

export function proxyBlock(config: SiteConfig | null): ProxyConfigBlock {
  const b = config?.raw.docker_proxy;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as ProxyConfigBlock) : {};
}

/** Flags win over the config, which wins over DOCKER_HOST and the defaults. */
export function proxySettings(flags: ProxyFlags, config: SiteConfig | null, env: NodeJS.ProcessEnv): ProxySettings {
  const b = proxyBlock(config);
  return {
    socketDir: flags.socketDir ?? b.socket_dir ?? DEFAULT_SOCKET_DIR,
    upstream: flags.upstream ?? b.upstream ?? (env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock'),
    users: flags.users ?? null,
    usersGroup: b.users_group ?? null,
    denialsPerMinute: flags.denialsPerMinute ?? DEFAULT_DENIALS_PER_MINUTE,
  };
}
