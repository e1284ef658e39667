import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { describeDocker, testImage, uniqueName } from '../../../../test-support/docker.js';
import { makeSandbox as makeWrapperSandbox, realDocker, wrapperBin } from '../helpers.js';
import { eventsFor, makeSandbox, startWatcher, stopWatcher, waitFor } from './helpers.js';

const created: string[] = [];
afterAll(async () => {
  if (created.length > 0) await execa(realDocker, ['rm', '-f', ...created], { reject: false });
});

describeDocker('ds01-docker-watch next to the wrapper', () => {
  it('a `docker run` through the wrapper reads create (wrapper), then start (watcher), each once', async () => {
    const wrapper = makeWrapperSandbox();
    const box = makeSandbox({ DS01_EVENTS_FILE: wrapper.events });
    box.eventsFile = wrapper.events;
    const watcher = await startWatcher(box);
    try {
      const name = uniqueName('watch-wrapped');
      const r = await execa(process.execPath, [wrapperBin, 'run', '-d', '--name', name, testImage, 'sleep', '300'], {
        env: wrapper.env('alice'),
        extendEnv: false,
        reject: false,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const id = r.stdout.trim();
      created.push(id);
      await waitFor('the watcher to log the start', () => eventsFor(wrapper.events, id).some((e) => e.event_type === 'container.start'));
      const events = eventsFor(wrapper.events, id);
      expect(events.map((e) => [e.event_type, e.source])).toEqual([
        ['container.create', 'docker-wrapper'],
        ['container.start', 'ds01-docker-watch'],
      ]);
      expect(events.every((e) => e.user === 'alice')).toBe(true);
    } finally {
      expect(await stopWatcher(watcher)).toBe(0);
    }
  });
});
