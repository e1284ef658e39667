import { describe, expect, it } from 'vitest';
import { cpTargets, optionValues, parseArgs } from '../src/index.js';

describe('parseArgs (docker grammar from the verb table)', () => {
  it('reads global flags before the verb, with and without values', () => {
    const p = parseArgs(['-D', '-H', 'unix:///x.sock', '--context=default', '--log-level', 'debug', 'run', 'img']);
    expect(p.globals.map((g) => [g.flag, g.value])).toEqual([
      ['-D', undefined],
      ['-H', 'unix:///x.sock'],
      ['--context', 'default'],
      ['--log-level', 'debug'],
    ]);
    expect(p.verbPath).toEqual(['run']);
    expect(p.spec?.kind).toBe('create');
    expect(p.positionals[0]?.value).toBe('img');
  });

  it('treats `container run` like `run` and `container ls` as a listing', () => {
    expect(parseArgs(['container', 'run', 'img']).spec?.kind).toBe('create');
    expect(parseArgs(['container', 'create', 'img']).spec?.kind).toBe('create');
    expect(parseArgs(['container', 'ls', '-a']).spec?.kind).toBe('list');
    expect(parseArgs(['container', 'list']).spec?.kind).toBe('list');
    expect(parseArgs(['container', 'ps']).spec?.kind).toBe('list');
    expect(parseArgs(['container', 'ls']).afterVerb).toBe(2);
  });

  it('reads every value form: --x v, --x=v, -u v, -uv, -u=v, bundles such as -itu root', () => {
    const p = parseArgs(['run', '--name', 'n1', '--label=a=b', '-itu', 'root', '-lx=y', '-e=K=V', '-w/tmp', 'img', 'cmd', '--gpus', 'all']);
    expect(optionValues(p.options, '--name')).toEqual(['n1']);
    expect(optionValues(p.options, '-l', '--label')).toEqual(['a=b', 'x=y']);
    expect(optionValues(p.options, '-u')).toEqual(['root']);
    expect(optionValues(p.options, '-e')).toEqual(['K=V']);
    expect(optionValues(p.options, '-w')).toEqual(['/tmp']);
    expect(p.options.filter((o) => o.flag === '-i' || o.flag === '-t')).toHaveLength(2);
    // Everything after the image belongs to the container's command.
    expect(p.positionals.map((x) => x.value)).toEqual(['img', 'cmd', '--gpus', 'all']);
    expect(optionValues(p.options, '--gpus')).toEqual([]);
    expect(p.argv[p.optionsEnd]).toBe('img');
  });

  it('stops at -- and at the image', () => {
    const p = parseArgs(['run', '--rm', '--', 'img', '--privileged']);
    expect(p.positionals[0]?.value).toBe('img');
    expect(p.options.map((o) => o.flag)).toEqual(['--rm']);
  });

  it('does not mistake flag values for targets (DS01 read `logs --tail 10 victim` as target 10)', () => {
    expect(parseArgs(['logs', '--tail', '10', 'victim']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['logs', '-n', '5', 'victim']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['logs', '-f', 'victim']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['exec', '--env-file', 'f', 'victim', 'sh']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['exec', '-itu', 'root', 'victim', 'sh']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['exec', '--detach-keys', 'x', 'victim']).positionals[0]?.value).toBe('victim');
    expect(parseArgs(['kill', '-s', 'KILL', 'a', 'b']).positionals.map((x) => x.value)).toEqual(['a', 'b']);
  });

  it('keeps reading flags between targets for verbs that take many', () => {
    const p = parseArgs(['rm', 'a', '-f', 'b']);
    expect(p.positionals.map((x) => x.value)).toEqual(['a', 'b']);
    expect(p.options.map((o) => o.flag)).toEqual(['-f']);
  });

  it('finds network members and cp container references', () => {
    expect(parseArgs(['network', 'connect', '--alias', 'x', 'net1', 'victim']).positionals.map((x) => x.value)).toEqual(['net1', 'victim']);
    expect(cpTargets(['victim:/etc/passwd', '/tmp/x'])).toEqual(['victim']);
    expect(cpTargets(['./a:b', '/abs:x', 'mine:/a', '-'])).toEqual(['mine']);
  });

  it('knows admin-only and pass-through verbs, and leaves unknown verbs unknown', () => {
    expect(parseArgs(['system', 'prune', '-af']).spec?.kind).toBe('admin-only');
    expect(parseArgs(['service', 'create', 'img']).spec?.kind).toBe('admin-only');
    expect(parseArgs(['images']).spec?.kind).toBe('passthrough');
    expect(parseArgs(['network', 'ls']).spec?.kind).toBe('passthrough');
    expect(parseArgs(['compose', 'up']).spec).toBeUndefined();
    expect(parseArgs(['run', '--help']).help).toBe(true);
  });
});
