import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventKey, nowNano } from '../../src/watch/docker-event.js';
import type { DockerSource } from '../../src/watch/docker-source.js';
import { DockerEventWatcher } from '../../src/watch/watch-docker-events.js';

const ID = 'abcdef0123456789abcdef';

/** A daemon with no container activity: what it still holds (other events only), and a live stream that stays open. */
function quietDocker(history: { nano: bigint[] }): DockerSource {
  const line = (nano: bigint) => `{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{}},"time":1,"timeNano":${nano}}\n`;
  return {
    address: 'unix:///quiet',
    ping: async () => {},
    events: async (_since, signal) => {
      const live = new PassThrough();
      signal.addEventListener('abort', () => live.end(), { once: true });
      return live;
    },
    history: async () => Readable.from(history.nano.map((n) => Buffer.from(line(n)))),
    inspect: async () => null,
  };
}

async function runOnce(docker: DockerSource, stateFile: string): Promise<DockerEventWatcher> {
  const watcher = new DockerEventWatcher({ docker, stateFile, diag: () => {} });
  const running = watcher.run();
  await new Promise((r) => setTimeout(r, 50));
  watcher.stop();
  await running;
  return watcher;
}

describe('DockerEventWatcher on a quiet daemon after a gap', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gap-once-'));
    saved = process.env.DS01_EVENTS_FILE;
    process.env.DS01_EVENTS_FILE = path.join(dir, 'events.jsonl');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DS01_EVENTS_FILE;
    else process.env.DS01_EVENTS_FILE = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a gap once, though no container event came to replace the lost anchor, and a later one still', async () => {
    const now = nowNano();
    const lastSeen = now - 3_600_000_000_000n;
    const stateFile = path.join(dir, 'docker-watch.json');
    const anchor = eventKey(lastSeen, 'die', ID);
    fs.writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        since_nano: (lastSeen - 2_000_000_000n).toString(),
        anchor,
        recent: [eventKey(lastSeen - 1_000_000_000n, 'stop', ID), anchor],
        log: null,
        pid: 1,
        updated_at: new Date().toISOString(),
      }),
    );
    const held = now - 60_000_000_000n;
    const history = { nano: [held] };
    const docker = quietDocker(history);
    const first = await runOnce(docker, stateFile);
    expect(first.stats.gaps).toBe(1);
    // Continuity picks up at the oldest event Docker still holds, not at the lost anchor.
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).anchor).toBe(eventKey(held, 'connect', 'n1'));
    for (let i = 0; i < 2; i += 1) expect((await runOnce(docker, stateFile)).stats.gaps).toBe(0);
    const gaps = () =>
      fs
        .readFileSync(process.env.DS01_EVENTS_FILE as string, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"monitor.gap"'))
        .map((l) => JSON.parse(l).details);
    expect(gaps()).toHaveLength(1);

    // Docker restarts while the watcher is down: what it held is gone, so a new gap (from there) is reported.
    history.nano = [now - 1_000_000_000n];
    expect((await runOnce(docker, stateFile)).stats.gaps).toBe(1);
    expect(gaps()).toHaveLength(2);
    expect(gaps()[1]).toMatchObject({ from: new Date(Number(held / 1_000_000n)).toISOString(), reason: 'docker_restarted' });
  });
});
