import type http from 'node:http';
import path from 'node:path';
import type { SiteConfig } from '@ds01/events-core/config';
import { engineTarget } from '@ds01/events-core/engine';
import { DenialLog } from './denial-log.js';
import { upstreamAgent } from './forward.js';
import { type ProxyFlags, type ProxySettings, proxySettings } from './proxy-settings.js';
import { socketUsers } from './socket-users.js';
import { createUserServer } from './user-server.js';
import { Sessions } from './user-session.js';
import { closeForUser, listenForUser, prepareSocketDir } from './user-sockets.js';

export const RESCAN_MS = 60_000;

export interface RunningProxy {
  settings: ProxySettings;
  /** Users with an open socket. */
  users(): string[];
  /** Reads the config again, opens sockets for new users and closes those of users who left. */
  rescan(): Promise<void>;
  close(): Promise<void>;
}

async function loadConfig(env: NodeJS.ProcessEnv): Promise<SiteConfig> {
  const { loadSiteConfig, configFilePath } = await import('@ds01/events-core/config');
  return loadSiteConfig(configFilePath(env));
}

/** Starts listening for every socket user; rescans every minute. */
export async function startProxy(flags: ProxyFlags, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<RunningProxy> {
  let config: SiteConfig | null = null;
  try {
    config = await loadConfig(env);
  } catch (err) {
    // With fixed users the proxy still serves (and every non-admin request is refused until the config reads).
    if (!flags.users) throw err;
    log(`the site configuration cannot be read: ${(err as Error).message}`);
  }
  const settings = proxySettings(flags, config, env);
  const upstream = engineTarget(settings.upstream);
  if ('socketPath' in upstream && path.resolve(upstream.socketPath).startsWith(`${path.resolve(settings.socketDir)}/`))
    throw new Error(`the upstream ${settings.upstream} is one of the proxy's own sockets`);
  prepareSocketDir(settings.socketDir);
  const sessions = new Sessions(settings.upstream, env);
  const agent = upstreamAgent();
  const denials = new DenialLog(settings.denialsPerMinute);
  const servers = new Map<string, http.Server>();

  let running: Promise<void> = Promise.resolve();
  const rescanOnce = async () => {
    if (!settings.users) {
      try {
        config = await loadConfig(env);
      } catch (err) {
        log(`rescan: the site configuration cannot be read, users unchanged: ${(err as Error).message}`);
      }
    }
    sessions.reload();
    const wanted = new Set(settings.users ?? socketUsers(config, settings.usersGroup));
    for (const [user, server] of servers) {
      if (wanted.has(user)) continue;
      servers.delete(user);
      await closeForUser(server, settings.socketDir, user);
      log(`closed the socket of ${user}`);
    }
    for (const user of wanted) {
      if (servers.has(user)) continue;
      const server = createUserServer(user, { sessions, upstream, agent, denials });
      try {
        const where = await listenForUser(server, settings.socketDir, user);
        servers.set(user, server);
        log(`listening for ${user} on ${where}`);
      } catch (err) {
        server.close();
        log(`no socket for ${user}: ${(err as Error).message}`);
      }
    }
  };
  // One rescan at a time: a SIGHUP during the periodic one waits for it.
  const rescan = () => {
    running = running.then(rescanOnce, rescanOnce);
    return running;
  };
  await rescan();
  const timer = setInterval(() => void rescan(), RESCAN_MS);
  timer.unref();
  return {
    settings,
    users: () => [...servers.keys()].sort(),
    rescan,
    async close() {
      clearInterval(timer);
      await running.catch(() => {});
      await Promise.all([...servers].map(([user, server]) => closeForUser(server, settings.socketDir, user)));
      servers.clear();
      agent.destroy();
      denials.flushAll();
    },
  };
}
