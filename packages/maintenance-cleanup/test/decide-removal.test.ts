import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSiteConfig, type SiteConfig } from '@ds01/events-core/config';
import { classifyContainer, type InspectLike } from '@ds01/events-core/jobs';
import { describe, expect, it } from 'vitest';
import { decideContainersPhase, decideGpuPhase } from '../src/decide-removal.js';

function config(yaml: string): SiteConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-cleanup-unit-'));
  const file = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(file, yaml);
  try {
    return loadSiteConfig(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SITE = config(`
defaults:
  container_hold_after_stop_h: 0.5
  gpu_hold_after_stop_h: 0.25
default_group: student
groups:
  student:
    members: [alice]
  researcher:
    members: [bob]
    container_hold_after_stop_h: 2
    gpu_hold_after_stop_h: null
user_overrides:
  carol:
    container_hold_after_stop_h: 24
container_types:
  devcontainer:
    container_hold_after_stop_h: 1
  unknown:
    container_hold_after_stop_h: null
policies:
  created_container_timeout_m: 30
`);

const NOW = Date.parse('2026-11-30T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

function container(opts: {
  status: string;
  user?: string;
  type?: string;
  stoppedMinutesAgo?: number;
  createdMinutesAgo?: number;
  gpu?: boolean;
  labels?: Record<string, string>;
}) {
  const labels: Record<string, string> = { 'ds01.managed': 'true', ...(opts.labels ?? {}) };
  if (opts.user) labels['ds01.user'] = opts.user;
  if (opts.type) labels['ds01.container_type'] = opts.type;
  const inspect: InspectLike = {
    Id: 'f'.repeat(64),
    Name: '/c',
    Created: minutesAgo(opts.createdMinutesAgo ?? 600),
    State: {
      Status: opts.status,
      StartedAt: opts.status === 'created' ? '0001-01-01T00:00:00Z' : minutesAgo(500),
      FinishedAt: opts.stoppedMinutesAgo === undefined ? '0001-01-01T00:00:00Z' : minutesAgo(opts.stoppedMinutesAgo),
    },
    Config: { Labels: labels },
    HostConfig: opts.gpu ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['GPU-1'], Capabilities: [['gpu']] }] } : {},
  };
  return classifyContainer(inspect);
}

describe('containers phase', () => {
  it('removes an exited container strictly past the hold, with UTC times', () => {
    expect(decideContainersPhase(container({ status: 'exited', user: 'alice', stoppedMinutesAgo: 31 }), SITE, NOW)).toMatchObject({
      action: 'remove',
      reason: 'hold_expired',
      holdKey: 'container_hold_after_stop_h',
      holdMs: 30 * 60_000,
      stoppedForMs: 31 * 60_000,
    });
    expect(decideContainersPhase(container({ status: 'exited', user: 'alice', stoppedMinutesAgo: 30 }), SITE, NOW)).toMatchObject({
      action: 'keep',
      reason: 'hold_pending',
      removeAt: NOW,
    });
  });

  it('takes the hold from the user override, then the group, then container_types, then defaults', () => {
    const at = (c: Parameters<typeof container>[0]) => decideContainersPhase(container(c), SITE, NOW);
    expect(at({ status: 'exited', user: 'carol', stoppedMinutesAgo: 23 * 60 })).toMatchObject({ action: 'keep', holdMs: 24 * 3600_000 });
    expect(at({ status: 'exited', user: 'bob', stoppedMinutesAgo: 119 })).toMatchObject({ action: 'keep', holdMs: 2 * 3600_000 });
    expect(at({ status: 'exited', user: 'dana', type: 'devcontainer', stoppedMinutesAgo: 61 })).toMatchObject({
      action: 'remove',
      holdMs: 3600_000,
    });
    // No owner: the default group's limits, then the type table (unknown: null = never).
    expect(at({ status: 'exited', type: 'mystery', stoppedMinutesAgo: 10_000 })).toMatchObject({
      action: 'keep',
      reason: 'no_limit',
      holdMs: null,
    });
  });

  it('removes a dead container after the hold with reason dead, counting from its creation if it never stopped', () => {
    expect(decideContainersPhase(container({ status: 'dead', user: 'alice', stoppedMinutesAgo: 45 }), SITE, NOW)).toMatchObject({
      action: 'remove',
      reason: 'dead',
    });
    expect(decideContainersPhase(container({ status: 'dead', user: 'alice', createdMinutesAgo: 40 }), SITE, NOW)).toMatchObject({
      action: 'remove',
      reason: 'dead',
      stoppedForMs: 40 * 60_000,
    });
  });

  it('keeps an exited container that has no stop time, with a warning', () => {
    const d = decideContainersPhase(container({ status: 'exited', user: 'alice' }), SITE, NOW);
    expect(d).toMatchObject({ action: 'keep', reason: 'no_stop_time' });
    expect(d.warning).toMatch(/FinishedAt/);
  });

  it('removes created-never-started containers after created_container_timeout_m, GPU ones too', () => {
    expect(
      decideContainersPhase(container({ status: 'created', user: 'alice', createdMinutesAgo: 31, gpu: true }), SITE, NOW),
    ).toMatchObject({
      action: 'remove',
      reason: 'created_never_started',
      ageMs: 31 * 60_000,
    });
    expect(decideContainersPhase(container({ status: 'created', user: 'alice', createdMinutesAgo: 29 }), SITE, NOW)).toMatchObject({
      action: 'keep',
      reason: 'timeout_pending',
    });
  });

  it('never removes running, paused, restarting or removing containers', () => {
    for (const status of ['running', 'paused', 'restarting', 'removing']) {
      expect(decideContainersPhase(container({ status, user: 'alice', stoppedMinutesAgo: 10_000 }), SITE, NOW)).toMatchObject({
        action: 'keep',
        reason: 'not_stopped',
      });
    }
  });
});

describe('GPU phase', () => {
  it('removes a stopped GPU container past its GPU hold; ignores CPU-only, running and created ones', () => {
    expect(decideGpuPhase(container({ status: 'exited', user: 'alice', gpu: true, stoppedMinutesAgo: 16 }), SITE, NOW)).toMatchObject({
      action: 'remove',
      reason: 'hold_expired',
      holdKey: 'gpu_hold_after_stop_h',
    });
    expect(decideGpuPhase(container({ status: 'exited', user: 'alice', gpu: true, stoppedMinutesAgo: 14 }), SITE, NOW)).toMatchObject({
      action: 'keep',
      reason: 'hold_pending',
    });
    expect(decideGpuPhase(container({ status: 'exited', user: 'alice', stoppedMinutesAgo: 16 }), SITE, NOW)).toBeNull();
    expect(decideGpuPhase(container({ status: 'running', user: 'alice', gpu: true }), SITE, NOW)).toBeNull();
    expect(decideGpuPhase(container({ status: 'created', user: 'alice', gpu: true, createdMinutesAgo: 600 }), SITE, NOW)).toBeNull();
  });

  it('holds forever when the GPU hold is null, and leaves unknown owners to the containers phase', () => {
    expect(decideGpuPhase(container({ status: 'exited', user: 'bob', gpu: true, stoppedMinutesAgo: 10_000 }), SITE, NOW)).toMatchObject({
      action: 'keep',
      reason: 'no_limit',
    });
    expect(decideGpuPhase(container({ status: 'exited', gpu: true, stoppedMinutesAgo: 10_000 }), SITE, NOW)).toMatchObject({
      action: 'keep',
      reason: 'unknown_owner',
    });
  });

  it('sees GPUs given as --runtime nvidia with NVIDIA_VISIBLE_DEVICES', () => {
    const c = classifyContainer({
      Id: 'e'.repeat(64),
      Name: '/multi',
      State: { Status: 'exited', FinishedAt: minutesAgo(20) },
      Config: { Labels: { 'ds01.user': 'alice' }, Env: ['NVIDIA_VISIBLE_DEVICES=GPU-1,GPU-2'] },
      HostConfig: { Runtime: 'nvidia' },
    });
    expect(decideGpuPhase(c, SITE, NOW)).toMatchObject({ action: 'remove' });
  });
});
