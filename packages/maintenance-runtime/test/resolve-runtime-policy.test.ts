import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadExemptions, loadSiteConfig } from '@ds01/events-core/config';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRuntimePolicy } from '../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-runtime-policy-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

fs.writeFileSync(
  path.join(dir, 'resource-limits.yaml'),
  `defaults:
  max_runtime_h: 24
default_group: student
groups:
  student:
    members: [alice]
  researcher:
    members: [bob]
    max_runtime_h: 48
    policies:
      runtime_mode: since_start
user_overrides:
  carol:
    max_runtime_h: null
    runtime_mode: accumulated
policies:
  warning_lead_m: 15
  sigterm_grace_s: 45
container_types:
  devcontainer:
    max_runtime_h: 168
    sigterm_grace_s: 30
  unknown:
    max_runtime_h: 12
`,
);
const config = loadSiteConfig(path.join(dir, 'resource-limits.yaml'));
const none = loadExemptions(dir);
const now = Date.UTC(2026, 10, 30);

describe('resolveRuntimePolicy', () => {
  it('takes the limit from the user and group first, then the container type (unknown types included), then defaults', () => {
    expect(resolveRuntimePolicy(config, none, 'alice', 'atomic', now)).toMatchObject({ maxRuntimeH: 24, maxRuntimeSource: 'defaults' });
    expect(resolveRuntimePolicy(config, none, 'alice', 'devcontainer', now)).toMatchObject({
      maxRuntimeH: 168,
      maxRuntimeSource: 'container_type:devcontainer',
      graceS: 30,
    });
    // DS01 left `api` and `custom` unlimited by accident; here they use container_types.unknown.
    expect(resolveRuntimePolicy(config, none, 'alice', 'api', now)).toMatchObject({ maxRuntimeH: 12, graceS: 45 });
    expect(resolveRuntimePolicy(config, none, 'bob', 'devcontainer', now)).toMatchObject({
      maxRuntimeH: 48,
      maxRuntimeSource: 'group:researcher',
    });
    expect(resolveRuntimePolicy(config, none, 'carol', 'atomic', now)).toMatchObject({ maxRuntimeH: null, maxRuntimeSource: 'override' });
  });

  it('reads runtime_mode as a policy or a per-user limit, the most specific layer winning', () => {
    expect(resolveRuntimePolicy(config, none, 'alice', 'atomic', now)).toMatchObject({ mode: 'accumulated', leadMs: 15 * 60_000 });
    expect(resolveRuntimePolicy(config, none, 'bob', 'atomic', now)).toMatchObject({ mode: 'since_start', modeSource: 'group:researcher' });
    expect(resolveRuntimePolicy(config, none, 'carol', 'atomic', now)).toMatchObject({ mode: 'accumulated', modeSource: 'override' });
  });
});
