#!/usr/bin/env node
// ds01-docker-proxy: the server-side Docker boundary (see the package README, "The policy boundary").
import { closeEventLogs } from '@ds01/events-core';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { startProxy } from '../proxy/run-proxy.js';

const log = (line: string) => process.stderr.write(`ds01-docker-proxy: ${line}\n`);

const argv = await yargs(hideBin(process.argv))
  .scriptName('ds01-docker-proxy')
  .usage(
    "$0 [options]\n\nListens on <socket-dir>/<user>/docker.sock for every ds01 user and applies the docker wrapper's rules to each Engine API request before it reaches the daemon. Runs as root (systemd: ds01-docker-proxy.service). SIGHUP or every minute: re-read the users.",
  )
  .option('socket-dir', {
    type: 'string',
    describe: 'Directory of the per-user sockets (default: docker_proxy.socket_dir, else /run/ds01/docker)',
  })
  .option('upstream', {
    type: 'string',
    describe: 'The real daemon (default: docker_proxy.upstream, else DOCKER_HOST, else unix:///var/run/docker.sock)',
  })
  .option('users', { type: 'string', describe: 'Only these users, comma-separated (tests); no rescans of the user list' })
  .option('denials-per-minute', {
    type: 'number',
    describe: 'auth.denied events logged per user and minute; the rest are counted in one event (default 60)',
  })
  .strict()
  .fail((msg, err) => {
    process.stderr.write(`ds01-docker-proxy: ${err?.message ?? msg}\nRun ds01-docker-proxy --help for the options.\n`);
    process.exit(2);
  })
  .help()
  .version(false)
  .parse();

if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  log('must run as root: it creates a socket for each user and acts for them (see the README).');
  process.exit(1);
}

const users =
  argv.users === undefined
    ? undefined
    : argv.users
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
const perMinute = argv['denials-per-minute'];
if (perMinute !== undefined && !(Number.isInteger(perMinute) && perMinute >= 0)) {
  process.stderr.write(`ds01-docker-proxy: --denials-per-minute ${perMinute}: give a whole number, 0 or more\n`);
  process.exit(2);
}
if (users !== undefined && users.length === 0) {
  process.stderr.write('ds01-docker-proxy: --users: give at least one user name\n');
  process.exit(2);
}

let proxy: Awaited<ReturnType<typeof startProxy>>;
try {
  proxy = await startProxy(
    { socketDir: argv['socket-dir'], upstream: argv.upstream, users, denialsPerMinute: perMinute },
    process.env,
    log,
  );
} catch (err) {
  log(`cannot start: ${(err as Error).message}`);
  process.exit(3);
}
log(`ready: ${proxy.users().length} user socket(s) in ${proxy.settings.socketDir}, upstream ${proxy.settings.upstream}`);

// One connection's failure is logged, never the end of every user's docker.
process.on('uncaughtException', (err) => log(`internal error (kept running): ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => log(`internal error (kept running): ${(err as Error)?.stack ?? err}`));

// One connection's failure is logged, never the end of every user's docker.
process.on('uncaughtException', (err) => log(`internal error (kept running): ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => log(`internal error (kept running): ${(err as Error)?.stack ?? err}`));

process.on('SIGHUP', () => {
  log('SIGHUP: re-reading the users');
  void proxy.rescan();
});
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: closing the sockets`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void proxy.close().finally(async () => {
      await closeEventLogs();
      process.exit(0);
    });
  });
}
