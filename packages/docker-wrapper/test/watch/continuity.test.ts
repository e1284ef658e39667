import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkContinuity } from '../../src/watch/check-continuity.js';
import { eventKey } from '../../src/watch/docker-event.js';
import type { DockerSource } from '../../src/watch/docker-source.js';

const ID = 'abcdef0123456789abcdef';

function line(nano: bigint, action = 'start'): string {
  return `{"Type":"container","Action":"${action}","Actor":{"ID":"${ID}","Attributes":{}},"time":1,"timeNano":${nano}}\n`;
}

/** Docker's history as the daemon would replay it; records the window asked for. */
function source(lines: string[]): DockerSource & { asked: [bigint, bigint][] } {
  const asked: [bigint, bigint][] = [];
  return {
    address: 'unix:///fake',
    asked,
    ping: async () => {},
    events: async () => Readable.from([]),
    history: async (since, until) => {
      asked.push([since, until]);
      return Readable.from(lines.map((l) => Buffer.from(l)));
    },
    inspect: async () => null,
  };
}

const NOW = 2_000_000_000_000_000_000n;

describe('checkContinuity', () => {
  it('sees no gap while Docker still holds the anchor', async () => {
    const anchor = eventKey(100n, 'die', ID);
    const src = source([line(100n, 'die'), line(150n)]);
    expect(await checkContinuity(src, anchor, [eventKey(90n, 'start', ID)], NOW)).toEqual({ gap: false });
    expect(src.asked).toEqual([[90n, NOW]]); // from the oldest key it remembers, up to now
  });

  it('reports a restarted daemon: the anchor is gone and the history is short', async () => {
    const src = source([line(500n), line(600n)]);
    expect(await checkContinuity(src, eventKey(100n, 'die', ID), [], NOW)).toEqual({
      gap: true,
      fromNano: 100n,
      toNano: 500n,
      reason: 'docker_restarted',
      resumeKey: eventKey(500n, 'start', ID),
    });
  });

  it('reports an exceeded history: 256 newer events pushed the anchor out', async () => {
    const lines = Array.from({ length: 256 }, (_, i) => line(1000n + BigInt(i)));
    const result = await checkContinuity(source(lines), eventKey(100n, 'die', ID), [], NOW);
    expect(result).toEqual({
      gap: true,
      fromNano: 100n,
      toNano: 1000n,
      reason: 'docker_history_exceeded',
      resumeKey: eventKey(1000n, 'start', ID),
    });
  });

  it('ends the gap now when Docker holds nothing newer, and checks nothing without an anchor', async () => {
    expect(await checkContinuity(source([]), eventKey(100n, 'die', ID), [], NOW)).toMatchObject({
      gap: true,
      toNano: NOW,
      resumeKey: null,
    });
    const src = source([]);
    expect(await checkContinuity(src, null, [], NOW)).toEqual({ gap: false });
    expect(src.asked).toEqual([]);
  });
});
