import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  checkExemption,
  loadExemptions,
  loadSiteConfig,
  resolveLifecycleLimit,
  resolveUserLimits,
  userSliceName,
} from '../src/config/index.js';
import { tempDir } from './helpers/tmp.js';

// A site config in DS01's resource-limits.yaml format (written for these tests).
const SITE = `# test site
defaults:
  max_gpu_equivalents: 1.0
  max_gpu_slots_per_container: 1
  allow_full_gpu: true
  max_cpus: 32
  memory: 32g
  max_containers_per_user: 3
  max_runtime_h: 24
  idle_timeout_h: 0.5
  gpu_hold_after_stop_h: 0.25
  container_hold_after_stop_h: 0.5

default_group: student

groups:
  student:
    members: [erin]
    max_gpu_slots: 2.0
    policies:
      cpu_idle_threshold: 2.5
    aggregate:
      gpu_limit: 2.0
  researcher:
    max_gpu_equivalents: 4.0
    max_runtime_h: 48
    idle_timeout_h: 1
    max_containers_per_user: 5
  admin:
    max_gpu_equivalents: null
    max_gpu_slots_per_container: null

user_overrides:
  frank:
    max_gpu_equivalents: 8
    max_runtime_h: "3d"

policies:
  grace_period_m: 30
  sigterm_grace_s: 60

container_types:
  devcontainer:
    idle_timeout_h: null
    max_runtime_h: 168
    sigterm_grace_s: 30
  unknown:
    idle_timeout_h: 0.25
    max_runtime_h: 24
`;

function site(text = SITE, extra: Record<string, string> = {}) {
  const dir = tempDir();
  const file = path.join(dir, 'resource-limits.yaml');
  fs.writeFileSync(file, text);
  for (const [name, body] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return { dir, file };
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('site config', () => {
  it('resolves defaults < group < override, with aliases and members files', () => {
    const { file } = site(SITE, {
      'groups/researcher.members': '# PhD students\ngrace\n  hal # staff\n',
      'user-overrides.yaml': 'grace:\n  max_gpu_equivalents: 6\n',
    });
    const config = loadSiteConfig(file);

    const erin = resolveUserLimits(config, 'erin');
    expect(erin.group).toBe('student');
    expect(erin.values.max_gpu_equivalents).toBe(2); // the old key max_gpu_slots is read as an alias
    expect(erin.sources.max_gpu_equivalents).toBe('group:student');
    expect(erin.values.max_cpus).toBe(32);
    expect(erin.sources.max_cpus).toBe('defaults');
    expect(erin.policies.cpu_idle_threshold).toBe(2.5);
    expect(erin.policies.grace_period_m).toBe(30);
    expect(erin.policySources.grace_period_m).toBe('policies');
    expect(erin.aggregate).toEqual({ gpu_limit: 2 });

    const grace = resolveUserLimits(config, 'grace');
    expect(grace.group).toBe('researcher');
    expect(grace.values.max_gpu_equivalents).toBe(6); // user-overrides.yaml wins
    expect(grace.sources.max_gpu_equivalents).toBe('override');
    expect(grace.values.max_runtime_h).toBe(48); // the group still applies under an override
    expect(resolveUserLimits(config, 'hal').group).toBe('researcher');

    const frank = resolveUserLimits(config, 'frank');
    expect(frank.group).toBe('student'); // default_group
    expect(frank.groupSource).toBe('default_group');
    expect(frank.values.max_runtime_h).toBe(72); // "3d" in hours

    expect(frank.slice).toBe('ds01-student-frank.slice');
  });

  it('keeps an explicit null (no limit) from a more specific layer', () => {
    const { file } = site(
      SITE.replace('    members: [erin]', '    members: [erin]\n').replace('  admin:\n', '  admin:\n    members: [root_admin]\n'),
    );
    const admin = resolveUserLimits(loadSiteConfig(file), 'root_admin');
    expect(admin.values.max_gpu_equivalents).toBeNull();
    expect(admin.sources.max_gpu_equivalents).toBe('group:admin');
  });

  it('resolves lifecycle limits: user or group, then the container type, then defaults', () => {
    const { file } = site(SITE, { 'groups/researcher.members': 'grace\n' });
    const config = loadSiteConfig(file);
    expect(resolveLifecycleLimit(config, 'erin', 'devcontainer', 'idle_timeout_h')).toEqual({
      value: null,
      source: 'container_type:devcontainer',
    });
    expect(resolveLifecycleLimit(config, 'grace', 'devcontainer', 'idle_timeout_h')).toEqual({ value: 1, source: 'group:researcher' });
    expect(resolveLifecycleLimit(config, 'erin', 'atomic', 'idle_timeout_h')).toEqual({ value: 0.5, source: 'defaults' });
    expect(resolveLifecycleLimit(config, 'erin', 'portainer-thing', 'max_runtime_h')).toEqual({
      value: 24,
      source: 'container_type:unknown',
    });
    expect(resolveLifecycleLimit(config, 'erin', 'api', 'max_runtime_h')).toEqual({ value: 24, source: 'container_type:unknown' });
    expect(resolveLifecycleLimit(config, 'erin', 'devcontainer', 'sigterm_grace_s')).toEqual({
      value: 30,
      source: 'container_type:devcontainer',
    });
    expect(resolveLifecycleLimit(config, 'erin', 'atomic', 'sigterm_grace_s')).toEqual({ value: 60, source: 'policies' });
  });

  it('reports every bad value with file:line and key, and never turns it into 0', () => {
    const bad = SITE.replace('max_cpus: 32', 'max_cpus: lots')
      .replace('max_runtime_h: 48', 'max_runtime_h: "48 hours please"')
      .replace('memory: 32g', 'memory: [32]');
    const { file } = site(bad);
    const problems = problemsOf(() => loadSiteConfig(file));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}:6: defaults\\.max_cpus: must be number,null \\(got "lots"\\)`)),
        expect.stringMatching(new RegExp(`^${file}:7: defaults\\.memory: must be string,null`)),
        expect.stringMatching(new RegExp(`^${file}:26: groups\\.researcher\\.max_runtime_h: "48 hours please" is not a duration`)),
      ]),
    );
    // One problem per key: the duration message, not a second schema message for the same value.
    expect(problems.filter((p) => p.includes('groups.researcher.max_runtime_h'))).toHaveLength(1);
  });

  it('reports YAML syntax errors with their line, a missing file, and bad override files', () => {
    const { file } = site('defaults:\n  memory: 32g\n   bad: indent\n');
    expect(problemsOf(() => loadSiteConfig(file))[0]).toMatch(new RegExp(`^${file}:2: \\(top level\\): YAML: `));
    expect(problemsOf(() => loadSiteConfig('/nonexistent/ds01.yaml'))[0]).toMatch(/file not found/);
    const withBadOverride = site(SITE, { 'user-overrides.yaml': 'zed:\n  allow_full_gpu: maybe\n' });
    expect(problemsOf(() => loadSiteConfig(withBadOverride.file))[0]).toMatch(
      /user-overrides\.yaml:2: zed\.allow_full_gpu: must be boolean/,
    );
  });

  it('warns about unknown keys (likely typos) with their line', () => {
    const { file } = site(SITE.replace('  max_cpus: 32', '  max_cpus: 32\n  idle_timout_h: 2'));
    expect(loadSiteConfig(file).warnings).toEqual([`${file}:7: defaults.idle_timout_h: unknown key (ignored)`]);
  });
});

describe('slice names', () => {
  it('keeps systemd from reading dashes in names as nesting', () => {
    expect(userSliceName('student', 'h.baker@hertie-school.org')).toBe('ds01-student-h_baker.slice');
    expect(userSliceName('phd-students', 'anne-marie')).toBe('ds01-phd_students-anne_marie.slice');
    const long = userSliceName('student', 'a'.repeat(40));
    expect(long).toMatch(/^ds01-student-a{27}_[0-9a-f]{4}\.slice$/);
  });
});

describe('lifecycle exemptions', () => {
  const now = Date.parse('2026-06-15T12:00:00Z');
  it('reads dates and date-times (UTC without a zone) and skips only the bad entries', () => {
    const { dir } = site(SITE, {
      'lifecycle-exemptions.yaml': `exemptions:
  - username: alice
    exempt_from: [idle_timeout_h]
    expires_on: 2026-07-01
    reason: thesis deadline
  - username: bob
    exempt_from: [max_runtime_h]
    expires_on: "2026-06-15T11:00:00"
    reason: expired an hour ago
  - username: carol
    exempt_from: [max_runtime_h]
    expires_on: next tuesday
  - username: dana
    exempt_from: [max_runtime_h, idle_timeout_h]
    expires_on: null
    reason: service account
  - exempt_from: [idle_timeout_h]
`,
    });
    const list = loadExemptions(dir);
    expect(list.problems).toHaveLength(2);
    expect(list.problems[0]).toMatch(/exemptions\[2\] \(carol\): expires_on "next tuesday" is not a date/);
    expect(list.problems[1]).toMatch(/exemptions\[4\]: username missing/);
    expect(checkExemption(list, 'alice', 'idle_timeout_h', now)).toMatchObject({
      exempt: true,
      expires: Date.parse('2026-07-01T00:00:00Z'),
    });
    expect(checkExemption(list, 'alice', 'max_runtime_h', now).exempt).toBe(false);
    expect(checkExemption(list, 'bob', 'max_runtime_h', now).exempt).toBe(false);
    expect(checkExemption(list, 'dana', 'idle_timeout_h', now)).toMatchObject({
      exempt: true,
      expires: null,
      reason: 'permanent: service account',
    });
  });

  it('treats a missing file as no exemptions', () => {
    expect(loadExemptions(tempDir()).entries).toEqual([]);
  });
});

describe('the build-time validator', () => {
  it('reports exactly what the schema compiled at run time reports', async () => {
    const { file } = site(SITE.replace('max_cpus: 32', 'max_cpus: lots').replace('allow_full_gpu: true', 'allow_full_gpu: 3'));
    const fromSource = problemsOf(() => loadSiteConfig(file));
    const generated = path.resolve(import.meta.dirname, '../dist/config/site-config-validator.cjs');
    expect(fs.existsSync(generated)).toBe(true);
    const built = await import(path.resolve(import.meta.dirname, '../dist/config/index.js'));
    let builtMessage = '';
    try {
      built.loadSiteConfig(file);
    } catch (err) {
      expect((err as Error).name).toBe('ConfigError');
      builtMessage = (err as Error).message;
    }
    expect(builtMessage.split('\n')).toEqual(fromSource);
    expect(fromSource).toHaveLength(2);
  });
});
