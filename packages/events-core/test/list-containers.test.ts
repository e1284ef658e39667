import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, dockerApi, removeContainersByLabel, testImage, uniqueName } from '../../../test-support/docker.js';
import { type ContainerLister, type ContainerSummaryLike, type InspectLike, listClassifiedContainers } from '../src/jobs/index.js';

const LABEL = 'ds01.test.list-containers';

/** The ContainerLister interface over the Engine API; `beforeInspect` lets a test act between listing and inspect. */
function lister(beforeInspect: (id: string) => Promise<void> = async () => {}): ContainerLister {
  return {
    async listContainers(options = {}) {
      const q = new URLSearchParams({ all: options.all ? '1' : '0' });
      if (options.filters) q.set('filters', typeof options.filters === 'string' ? options.filters : JSON.stringify(options.filters));
      const res = await dockerApi<ContainerSummaryLike[]>('GET', `/containers/json?${q}`);
      if (res.status !== 200 || !res.json) throw new Error(res.text);
      return res.json;
    },
    getContainer(id) {
      return {
        async inspect() {
          await beforeInspect(id);
          const res = await dockerApi<InspectLike>('GET', `/containers/${id}/json`);
          if (res.status !== 200 || !res.json) throw Object.assign(new Error(res.text), { statusCode: res.status });
          return res.json;
        },
      };
    },
  };
}

const prefix = uniqueName('listing');
const ids: Record<string, string> = {};

async function make(key: string, labels: Record<string, string>, start: boolean, extra: Record<string, unknown> = {}) {
  const res = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${prefix}-${key}`, {
    Image: testImage,
    Cmd: ['sleep', '600'],
    Labels: { [LABEL]: '1', ...labels },
    HostConfig: { NetworkMode: 'none', ...extra },
  });
  expect(res.status).toBe(201);
  ids[key] = res.json?.Id as string;
  if (start) expect((await dockerApi('POST', `/containers/${ids[key]}/start`)).status).toBe(204);
}

describeDocker('listClassifiedContainers', () => {
  beforeAll(async () => {
    await make('gpu', { 'ds01.user': 'alice', 'ds01.container_type': 'atomic' }, true, {
      DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['GPU-a'], Capabilities: [['gpu']] }],
    });
    await make('plain', {}, true);
    await make('idle', { 'ds01.user': 'bob', 'ds01.protected': 'true' }, false);
  });
  afterAll(async () => {
    await removeContainersByLabel(LABEL);
  });

  it('lists running containers by default and every state with all, classified from one inspect each', async () => {
    const running = await listClassifiedContainers(lister(), { nameFilter: prefix });
    expect(running.containers.map((c) => c.name).sort()).toEqual([`${prefix}-gpu`, `${prefix}-plain`]);
    expect(running.complete).toBe(false);
    const gpu = running.containers.find((c) => c.id === ids.gpu);
    expect(gpu).toMatchObject({ owner: 'alice', type: 'atomic', status: 'running', gpu: { hasGpu: true, devices: ['GPU-a'] } });
    expect(gpu?.startedAt).toBeTypeOf('number');

    const all = await listClassifiedContainers(lister(), { all: true, nameFilter: prefix });
    const idle = all.containers.find((c) => c.id === ids.idle);
    expect(idle).toMatchObject({ status: 'created', owner: 'bob', exemptLabel: 'ds01.protected', startedAt: null });
    expect(all.containers).toHaveLength(3);
  });

  it('reports a container removed between the listing and its inspect, and goes on with the others', async () => {
    const result = await listClassifiedContainers(
      lister(async (id) => {
        if (id === ids.plain) await dockerApi('DELETE', `/containers/${id}?force=1`);
      }),
      { all: true, nameFilter: prefix, concurrency: 1 },
    );
    expect(result.vanished).toEqual([ids.plain]);
    expect(result.errors).toEqual([]);
    expect(result.containers.map((c) => c.id).sort()).toEqual([ids.gpu, ids.idle].sort());
  });

  it('skips listed containers the keep filter rejects without inspecting them', async () => {
    const inspected: string[] = [];
    const result = await listClassifiedContainers(
      lister(async (id) => {
        inspected.push(id);
      }),
      { all: true, nameFilter: prefix, keep: (s) => s.Labels?.['ds01.user'] === 'alice' },
    );
    expect(result.containers.map((c) => c.id)).toEqual([ids.gpu]);
    expect(inspected).toEqual([ids.gpu]);
  });
});
