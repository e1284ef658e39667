import { afterAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { type InspectLike, type StoppableContainer, stopContainerChecked } from '../src/jobs/index.js';
import { parseDockerTime } from '../src/time/index.js';

const LABEL = 'ds01.test.stop-container';

/** The StoppableContainer interface over the Engine API (what dockerode gives the jobs). */
function handle(idOrName: string): StoppableContainer {
  const fail = (status: number, text: string) => Object.assign(new Error(text), { statusCode: status });
  return {
    async inspect() {
      const res = await dockerApi<InspectLike>('GET', `/containers/${idOrName}/json`);
      if (res.status !== 200 || !res.json) throw fail(res.status, res.text);
      return res.json;
    },
    async stop(options = {}) {
      const res = await dockerApi('POST', `/containers/${idOrName}/stop${options.t === undefined ? '' : `?t=${options.t}`}`);
      if (res.status !== 204) throw fail(res.status, res.text);
    },
  };
}

async function run(cmd: string): Promise<{ id: string; name: string; startedAt: number | null }> {
  const name = uniqueName('stop-helper');
  const created = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
    Image: testImage,
    Cmd: ['sh', '-c', cmd],
    Labels: { [LABEL]: '1' },
    HostConfig: { NetworkMode: 'none' },
  });
  expect(created.status).toBe(201);
  const id = created.json?.Id as string;
  expect((await dockerApi('POST', `/containers/${id}/start`)).status).toBe(204);
  const info = await handle(id).inspect();
  return { id, name, startedAt: parseDockerTime(info.State?.StartedAt) };
}

const TRAP = 'trap "sleep 2; exit 0" TERM; while true; do sleep 1; done';

describeDocker('stopContainerChecked', () => {
  afterAll(async () => {
    await removeContainersByLabel(LABEL);
  });

  it('gives a container trapping SIGTERM its grace seconds, and kills it when the grace is shorter', async () => {
    const patient = await run(TRAP);
    const hasty = await run(TRAP);
    const [graceful, killed] = await Promise.all([
      stopContainerChecked(handle(patient.id), patient, 10),
      stopContainerChecked(handle(hasty.id), hasty, 0),
    ]);
    expect(graceful).toMatchObject({ outcome: 'stopped', graceS: 10, exitCode: 0 });
    expect(killed).toMatchObject({ outcome: 'stopped', graceS: 0, exitCode: 137 });
    if (graceful.outcome !== 'stopped' || patient.startedAt === null) throw new Error('unreachable');
    // The trap slept 2 s before exiting: the stop waited for it.
    expect(graceful.finishedAt).toBeGreaterThanOrEqual(patient.startedAt + 2000);
  });

  it('skips a container that was restarted, stopped, replaced or removed since the decision', async () => {
    const restarted = await run('sleep 600');
    expect((await dockerApi('POST', `/containers/${restarted.id}/restart?t=0`)).status).toBe(204);
    expect(await stopContainerChecked(handle(restarted.id), restarted, 0)).toMatchObject({ outcome: 'skipped', reason: 'restarted' });
    expect((await handle(restarted.id).inspect()).State?.Running).toBe(true);

    const stopped = await run('sleep 600');
    expect((await dockerApi('POST', `/containers/${stopped.id}/stop?t=0`)).status).toBe(204);
    expect(await stopContainerChecked(handle(stopped.id), stopped, 0)).toMatchObject({ outcome: 'skipped', reason: 'not_running' });

    const old = await run('sleep 600');
    expect((await dockerApi('DELETE', `/containers/${old.id}?force=1`)).status).toBe(204);
    expect(await stopContainerChecked(handle(old.id), old, 0)).toMatchObject({ outcome: 'skipped', reason: 'gone' });

    // Same name, new container: a handle by name must not stop the newcomer.
    const again = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${old.name}`, {
      Image: testImage,
      Cmd: ['sleep', '600'],
      Labels: { [LABEL]: '1' },
      HostConfig: { NetworkMode: 'none' },
    });
    expect((await dockerApi('POST', `/containers/${again.json?.Id}/start`)).status).toBe(204);
    expect(await stopContainerChecked(handle(old.name), old, 0)).toMatchObject({ outcome: 'skipped', reason: 'replaced' });
    expect((await handle(old.name).inspect()).State?.Running).toBe(true);
  });
});
