import { describe, expect, it } from 'vitest';
import { classifyContainer, labelsMatch, parseLabelMatcher } from '../src/jobs/index.js';

const base = {
  Id: 'a'.repeat(64),
  Name: '/alice-train',
  Created: '2026-11-30T10:00:00.123456789Z',
  State: { Status: 'exited', Pid: 0, StartedAt: '2026-11-30T10:01:00Z', FinishedAt: '2026-11-30T11:00:00.5Z' },
};

describe('classifyContainer', () => {
  it('reads owner, type, GPUs and UTC times from an inspect result', () => {
    const c = classifyContainer({
      ...base,
      Config: { Labels: { 'ds01.user': 'alice', 'ds01.managed': 'true', 'ds01.container_type': 'atomic' } },
      HostConfig: { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['GPU-1', 'GPU-2'], Capabilities: [['gpu']] }] },
    });
    expect(c).toMatchObject({
      id: base.Id,
      name: 'alice-train',
      status: 'exited',
      owner: 'alice',
      ownerFrom: 'ds01.user',
      type: 'atomic',
      managed: true,
      exemptLabel: null,
      createdAt: Date.UTC(2026, 10, 30, 10, 0, 0, 123),
      startedAt: Date.UTC(2026, 10, 30, 10, 1, 0),
      finishedAt: Date.UTC(2026, 10, 30, 11, 0, 0, 500),
    });
    expect(c.gpu.devices).toEqual(['GPU-1', 'GPU-2']);
  });

  it("treats Docker's zero time as never and names the protecting label", () => {
    const c = classifyContainer({
      ...base,
      State: { Status: 'created', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
      Config: { Labels: { 'ds01.monitoring': 'true' } },
    });
    expect(c.startedAt).toBeNull();
    expect(c.finishedAt).toBeNull();
    expect(c.exemptLabel).toBe('ds01.monitoring');
    expect(c.managed).toBe(false);
    expect(c.owner).toBeNull();
    expect(c.gpu.hasGpu).toBe(false);
    expect(classifyContainer({ ...base, Config: { Labels: { 'ds01.protected': 'true' } } }).exemptLabel).toBe('ds01.protected');
  });

  it('finds GPUs given as --runtime nvidia with NVIDIA_VISIBLE_DEVICES and no DeviceRequests', () => {
    const c = classifyContainer({
      ...base,
      Config: { Labels: {}, Env: ['PATH=/bin', 'NVIDIA_VISIBLE_DEVICES=GPU-7,GPU-8'] },
      HostConfig: { Runtime: 'nvidia' },
    });
    expect(c.gpu).toMatchObject({ hasGpu: true, devices: ['GPU-7', 'GPU-8'], from: 'runtime_env' });
  });
});

describe('label matchers', () => {
  it('matches a key alone or a key with its exact value', () => {
    const labels = { team: 'vision', 'keep.me': '' };
    expect(labelsMatch(labels, parseLabelMatcher('team'))).toBe(true);
    expect(labelsMatch(labels, parseLabelMatcher('team=vision'))).toBe(true);
    expect(labelsMatch(labels, parseLabelMatcher('team=nlp'))).toBe(false);
    expect(labelsMatch(labels, parseLabelMatcher('keep.me='))).toBe(true);
    expect(labelsMatch(labels, parseLabelMatcher('other'))).toBe(false);
    expect(parseLabelMatcher('a=b=c')).toEqual({ key: 'a', value: 'b=c', text: 'a=b=c' });
  });

  it('refuses an empty key', () => {
    expect(() => parseLabelMatcher('=x')).toThrow(/want key or key=value/);
    expect(() => parseLabelMatcher('')).toThrow(/want key or key=value/);
  });
});

describe('classifyContainer exec sessions', () => {
  it('keeps the exec session ids, empty when Docker lists none', () => {
    expect(classifyContainer({ ...base, ExecIDs: ['e1', 'e2'] }).execIds).toEqual(['e1', 'e2']);
    expect(classifyContainer({ ...base, ExecIDs: null }).execIds).toEqual([]);
    expect(classifyContainer(base).execIds).toEqual([]);
  });
});
