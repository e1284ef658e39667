import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeDocker } from '../../../test-support/docker.js';
import { entryOf, eventsOf, makeSite, runApi, startContainer } from './helpers.js';

describeDocker('ds01-runtime state file', () => {
  it('moves an unreadable state file aside, rebuilds it from Docker and reports it', async () => {
    const site = makeSite('defaults:\n  max_runtime_h: 1\ndefault_group: student\n');
    const c = await startContainer(site, 'rebuilt', { user: 'alice' });
    const file = path.join(site.stateDir, 'runtime-state.json');
    fs.mkdirSync(site.stateDir, { recursive: true });
    fs.writeFileSync(file, '{"version": 1, "containers": {"abc": ');

    const dry = await runApi(site, { dryRun: true });
    expect(dry.warnings.join('\n')).toMatch(/a real run would move it aside/);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"version": 1, "containers": {"abc": ');

    const report = await runApi(site);
    expect(entryOf(report, c.id)).toMatchObject({ action: 'ok' });
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(Object.keys(state.containers)).toEqual([c.id]);
    expect(fs.readdirSync(site.stateDir).some((f) => f.startsWith('runtime-state.json.corrupt-'))).toBe(true);
    expect(eventsOf(site, 'maintenance.warning').map((e) => e.details.code)).toEqual(['state_recovered']);
  });
});
