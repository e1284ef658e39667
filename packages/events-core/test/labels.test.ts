import { describe, expect, it } from 'vitest';
import { describeDocker, dockerApi, testImage, uniqueName } from '../../../test-support/docker.js';
import { type ContainerFacts, factsFromInspect, isExemptFromMaintenance, readGpuUse, readOwner, readType } from '../src/labels/index.js';

const facts = (labels: Record<string, string>, extra: Partial<ContainerFacts> = {}): ContainerFacts => ({
  id: 'abc',
  name: 'box',
  labels,
  ...extra,
});

describe('label contract', () => {
  it('reads the owner from ds01.user, then the legacy sources, and never guesses', () => {
    expect(readOwner(facts({ 'ds01.user': 'alice', 'aime.mlc.USER': 'bob' }))).toEqual({ owner: 'alice', from: 'ds01.user' });
    expect(readOwner(facts({ 'aime.mlc.USER': 'bob' })).owner).toBe('bob');
    expect(readOwner(facts({ 'devcontainer.local_folder': '/home/carol/project' })).owner).toBe('carol');
    expect(readOwner(facts({ 'devcontainer.local_folder': '/srv/shared/project' })).owner).toBeNull();
    expect(readOwner({ id: 'x', name: 'job._.1001', labels: {} }, (uid) => (uid === 1001 ? 'alice' : undefined)).owner).toBe('alice');
    expect(readOwner(facts({})).owner).toBeNull();
  });

  it('reads the type from labels and DS01 hints; no hint is unknown', () => {
    expect(readType(facts({ 'ds01.container_type': 'devcontainer' }))).toBe('devcontainer');
    expect(readType(facts({ 'ds01.interface': 'orchestration' }))).toBe('orchestration');
    expect(readType(facts({ 'devcontainer.metadata': '[]' }))).toBe('devcontainer');
    expect(readType(facts({ 'com.docker.compose.project': 'p' }))).toBe('compose');
    expect(readType({ id: 'x', name: 'job._.1001', labels: {} })).toBe('atomic');
    expect(readType(facts({}))).toBe('unknown');
  });

  it('reads GPU use from labels and from --runtime nvidia with NVIDIA_VISIBLE_DEVICES', () => {
    expect(readGpuUse(facts({ 'ds01.gpu.uuids': 'GPU-a, GPU-b' }))).toMatchObject({
      hasGpu: true,
      devices: ['GPU-a', 'GPU-b'],
      from: 'labels',
    });
    expect(readGpuUse(facts({ 'ds01.gpu.uuid': 'MIG-1' })).devices).toEqual(['MIG-1']);
    expect(readGpuUse(facts({}, { runtime: 'nvidia', env: ['NVIDIA_VISIBLE_DEVICES=GPU-x,GPU-y'] }))).toMatchObject({
      devices: ['GPU-x', 'GPU-y'],
      from: 'runtime_env',
    });
    expect(readGpuUse(facts({}, { runtime: 'nvidia', env: ['NVIDIA_VISIBLE_DEVICES=all'] })).all).toBe(true);
    expect(readGpuUse(facts({}, { runtime: 'runc', env: ['NVIDIA_VISIBLE_DEVICES=all'] })).hasGpu).toBe(false);
    expect(isExemptFromMaintenance(facts({ 'ds01.protected': 'true' }))).toBe(true);
    expect(isExemptFromMaintenance(facts({ 'ds01.monitoring': 'true' }))).toBe(true);
    expect(isExemptFromMaintenance(facts({ 'ds01.protected': 'false' }))).toBe(false);
  });
});

describeDocker('label contract on real containers', () => {
  it('reads GPU requests from HostConfig.DeviceRequests as the engine records them', async () => {
    const name = uniqueName('core-gpu');
    const created = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}`, {
      Image: testImage,
      Cmd: ['true'],
      Labels: { 'ds01.user': 'alice', 'ds01.container_type': 'docker' },
      HostConfig: { DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: ['GPU-a', 'MIG-b'], Capabilities: [['gpu']] }] },
    });
    expect(created.status).toBe(201);
    const counted = await dockerApi<{ Id: string }>('POST', `/containers/create?name=${name}-all`, {
      Image: testImage,
      Cmd: ['true'],
      HostConfig: { DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] },
    });
    try {
      const inspect = (await dockerApi(`GET`, `/containers/${name}/json`)).json as Parameters<typeof factsFromInspect>[0];
      const f = factsFromInspect(inspect);
      expect(f.name).toBe(name);
      expect(readOwner(f).owner).toBe('alice');
      expect(readType(f)).toBe('docker');
      expect(readGpuUse(f)).toEqual({ hasGpu: true, devices: ['GPU-a', 'MIG-b'], all: false, from: 'device_requests' });
      const all = factsFromInspect((await dockerApi('GET', `/containers/${name}-all/json`)).json as Parameters<typeof factsFromInspect>[0]);
      expect(readGpuUse(all)).toMatchObject({ hasGpu: true, all: true });
      expect(readType(all)).toBe('unknown');
    } finally {
      await dockerApi('DELETE', `/containers/${created.json?.Id}?force=1`);
      await dockerApi('DELETE', `/containers/${counted.json?.Id}?force=1`);
    }
  });
});
