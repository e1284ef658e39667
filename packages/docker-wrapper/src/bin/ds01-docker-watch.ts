#!/usr/bin/env node
import fs from 'node:fs';
import { statePath } from '@ds01/events-core';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isoFromNano, keyTime } from '../watch/docker-event.js';
import { dockerodeSource } from '../watch/docker-source.js';
import { AlreadyRunningError } from '../watch/instance-lock.js';
import { DockerEventWatcher, DockerUnavailableError } from '../watch/watch-docker-events.js';
import type { loadWatchState } from '../watch/watch-state.js';

/** Exit statuses: 0 stopped by a signal, 1 another watcher runs (or `status`: not running), 2 usage, 3 internal error, 4 Docker unreachable at start. */
const EXIT = { ok: 0, refused: 1, usage: 2, internal: 3, noDocker: 4 } as const;

const DEFAULT_STATE_NAME = 'docker-watch.json';

function fail(code: number, message: string): never {
  process.stderr.write(`ds01-docker-watch: ${message}\n`);
  process.exit(code);
}

async function run(args: { stateFile: string; wait: boolean; maxBackoff: number }): Promise<void> {
  const watcher = new DockerEventWatcher({
    docker: dockerodeSource(),
    stateFile: args.stateFile,
    waitForDocker: args.wait,
    maxBackoffMs: args.maxBackoff * 1000,
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    watcher.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await watcher.run();
  } catch (err) {
    if (err instanceof DockerUnavailableError) fail(EXIT.noDocker, err.message);
    if (err instanceof AlreadyRunningError) fail(EXIT.refused, err.message);
    fail(EXIT.internal, `internal error: ${(err as Error).stack ?? String(err)}`);
  }
  process.exit(EXIT.ok);
}

function pidOf(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? Number(fs.readFileSync(file, 'utf8').trim()) : null;
  }
}

function status(args: { stateFile: string; json: boolean }): void {
  const pid = pidOf(`${args.stateFile}.pid`);
  let loaded: ReturnType<typeof loadWatchState> | { kind: 'error'; error: string };
  try {
    // Read-only view: loadWatchState would move a corrupt file aside, so parse here instead.
    const text = fs.readFileSync(args.stateFile, 'utf8');
    loaded = { kind: 'ok', state: JSON.parse(text) };
  } catch (err) {
    loaded = (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'missing' } : { kind: 'error', error: (err as Error).message };
  }
  const state = loaded.kind === 'ok' ? loaded.state : null;
  const anchorNano = state?.anchor ? keyTime(state.anchor) : null;
  const report = {
    running: pid !== null,
    pid,
    state_file: args.stateFile,
    state: loaded.kind === 'ok' ? 'ok' : loaded.kind,
    resume_from: state?.since_nano ? isoFromNano(BigInt(state.since_nano)) : null,
    last_event: anchorNano !== null ? isoFromNano(anchorNano) : null,
    updated_at: state?.updated_at ?? null,
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(
      `${report.running ? `running (pid ${pid})` : 'not running'}\n` +
        `state file:  ${report.state_file} (${report.state})\n` +
        `last event:  ${report.last_event ?? 'none yet'}\n` +
        `resumes at:  ${report.resume_from ?? 'now (first start)'}\n` +
        (report.running ? '' : 'Start it with: systemctl start ds01-docker-watch\n'),
    );
  }
  process.exit(report.running ? EXIT.ok : EXIT.refused);
}

await yargs(hideBin(process.argv))
  .scriptName('ds01-docker-watch')
  .usage('$0 [run|status] [options]\n\nFollows the Docker event stream and logs every container lifecycle event (ds01 events log).')
  .option('state-file', {
    type: 'string',
    describe: 'Resume state (default $DS01_STATE_DIR/docker-watch.json)',
    default: statePath(DEFAULT_STATE_NAME),
    defaultDescription: '$DS01_STATE_DIR/docker-watch.json',
  })
  .command(
    ['run', '$0'],
    'Watch Docker events until SIGTERM/SIGINT (the systemd service)',
    (y) =>
      y
        .option('wait', {
          type: 'boolean',
          default: false,
          describe: 'Wait for a Docker daemon that is not there at start (instead of exit 4)',
        })
        .option('max-backoff', { type: 'number', default: 30, describe: 'Longest pause between reconnection attempts, seconds' })
        .check((a) => {
          const v = Number(a['max-backoff']);
          if (!Number.isFinite(v) || v <= 0) throw new Error(`--max-backoff: expected seconds > 0, got ${String(a['max-backoff'])}`);
          return true;
        }),
    (a) => run({ stateFile: a.stateFile, wait: a.wait, maxBackoff: a.maxBackoff }),
  )
  .command(
    'status',
    'Whether the watcher runs and where it stands (exit 0 running, 1 not running)',
    (y) => y.option('json', { type: 'boolean', default: false, describe: 'Pure JSON on stdout' }),
    (a) => status({ stateFile: a.stateFile, json: a.json }),
  )
  .epilogue(
    'Exit status: 0 stopped by SIGTERM/SIGINT, 1 another watcher already runs, 2 usage, 3 internal error, 4 Docker unreachable at start.\n' +
      'Environment: DOCKER_HOST, DS01_EVENTS_FILE, DS01_STATE_DIR, DS01_GPU_BIN (ds01-gpu, run as `reconcile` after a GPU container stops).',
  )
  .strict()
  .fail((msg, err) => {
    if (err && !msg) fail(EXIT.internal, err.message);
    fail(EXIT.usage, `${msg ?? err?.message}\nRun ds01-docker-watch --help for usage.`);
  })
  .help()
  .version(false)
  .parseAsync();
