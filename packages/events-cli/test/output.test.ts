import path from 'node:path';
import { eventCatalogue } from '@ds01/events-core/catalogue';
import { describe, expect, it } from 'vitest';
import { displayWidth } from '../src/output/table.js';
import { cli, jqLines, tempDir, v1, v2, writeLog } from './helpers/fixtures.js';

const ESC = '\x1b[';

function log(lines: string[]): string {
  const file = path.join(tempDir(), 'events.jsonl');
  writeLog(file, lines);
  return file;
}

describe('table output', () => {
  it('keeps columns aligned whatever the values hold, shows source and details as key=value', async () => {
    const file = log([
      v2('2026-03-10T07:00:00.000Z', 'gpu.reject', {
        user: 'alice',
        source: 'ds01-gpu',
        details: { container: 'a|b', reason: 'USER_AT_LIMIT', message: 'at limit: 2/2' },
      }),
      v2('2026-03-10T07:00:01.000Z', 'container.create', {
        user: 'bob\tx',
        source: 'docker-wrapper',
        details: { container: 'multi\nline', image: 'img', n: 3 },
      }),
      v2('2026-03-10T07:00:02.000Z', 'auth.denied', { source: 'docker-wrapper', details: { command: 'stop 容器', ok: true } }),
      v1('2026-03-10T07:00:03Z', 'x.y', 'carol', { gpus: [{ uuid: 'GPU-1', slot: '0' }] }),
    ]);
    const r = await cli([], file);
    expect(r.exitCode).toBe(0);
    const rows = r.stdout.split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^TIME\s+TYPE\s+USER\s+CONTAINER\s+SOURCE\s+DETAILS$/);
    // Local time (New York, EDT): 07:00Z is 03:00.
    expect(rows[1]?.startsWith('2026-03-10 03:00:00  gpu.reject')).toBe(true);
    const col = (header: string) => (rows[0] as string).indexOf(header);
    for (const row of rows.slice(1)) {
      const cells = row.slice(0, col('DETAILS'));
      expect(displayWidth(cells)).toBe(col('DETAILS'));
      expect(row).not.toContain('\n');
      expect(row).not.toContain('\t');
    }
    expect(rows[1]).toContain('ds01-gpu');
    expect(rows[1]).toContain('reason=USER_AT_LIMIT message="at limit: 2/2"');
    expect(rows[2]).toContain('multi\\nline');
    expect(rows[2]).toContain('bob\\tx');
    expect(rows[4]).toContain('gpus=[{"uuid":"GPU-1","slot":"0"}]');
    expect(r.stdout).not.toContain(ESC);
  });

  it('shows UTC with --utc, colours only when asked or on a terminal without NO_COLOR', async () => {
    const file = log([v2('2026-03-10T07:00:00.000Z', 'gpu.reject', { user: 'alice' })]);
    expect((await cli(['--utc'], file)).stdout).toContain('2026-03-10 07:00:00Z');
    const coloured = await cli(['--color'], file);
    expect(coloured.stdout).toContain(`${ESC}31mgpu.reject`);
    expect(coloured.stdout).not.toContain('alice\x1b');
    expect((await cli(['--no-color'], file)).stdout).not.toContain(ESC);
    expect((await cli(['--json', '--color'], file)).stdout).not.toContain(ESC);
  });
});

describe('--summary', () => {
  it('counts by type, user, source and local day over the filtered events only', async () => {
    const file = log([
      v2('2026-03-10T03:30:00.000Z', 'gpu.reject', { user: 'alice', source: 'ds01-gpu' }), // 23:30 on the 9th in New York
      v2('2026-03-10T05:00:00.000Z', 'gpu.reject', { user: 'bob', source: 'ds01-gpu' }),
      v2('2026-03-10T06:00:00.000Z', 'gpu.allocate', { user: 'bob', source: 'ds01-gpu' }),
      v2('2026-03-10T07:00:00.000Z', 'auth.denied', { source: 'docker-wrapper' }),
      'garbage',
      v1('2026-03-11T07:00:00Z', 'gpu.rejected', 'bob', {}),
    ]);
    const r = await cli(['--summary', '--json', '--type', 'gpu.reject*'], file);
    expect(r.exitCode).toBe(0);
    const [s] = await jqLines(r.stdout);
    expect(s).toEqual({
      total: 3,
      first: '2026-03-10T03:30:00.000Z',
      last: '2026-03-11T07:00:00.000Z',
      by_type: { 'gpu.reject': 2, 'gpu.rejected': 1 },
      by_user: { bob: 2, alice: 1 },
      by_source: { 'ds01-gpu': 2, '(none)': 1 },
      by_day: { '2026-03-09': 1, '2026-03-10': 1, '2026-03-11': 1 },
    });
    const utc = await jqLines((await cli(['--summary', '--json', '--utc'], file)).stdout);
    expect(utc[0]?.by_day).toEqual({ '2026-03-10': 4, '2026-03-11': 1 });
    const text = await cli(['--summary', '--since', '2026-03-10T01:00'], file);
    expect(text.stdout).toContain('Total events: 4');
    expect(text.stdout).toMatch(/By user:\n\s+3 {2}bob\n\s+1 {2}\(none\)/);
    expect(text.stderr).toBe('ds01-events: skipped 1 malformed line');
  });
});

describe('ds01-events types', () => {
  it('lists every catalogued type with its detail fields, from the catalogue', async () => {
    const r = await cli(['types', '--json'], null);
    const [list] = await jqLines(r.stdout);
    const infos = list as unknown as { type: string; fields: { name: string; required: boolean; type: string }[] }[];
    expect(infos.map((i) => i.type).sort()).toEqual(Object.keys(eventCatalogue).sort());
    const reject = infos.find((i) => i.type === 'gpu.reject');
    expect(reject?.fields.find((f) => f.name === 'requested')).toEqual({ name: 'requested', type: 'integer', required: true });
    expect(reject?.fields.find((f) => f.name === 'limit')).toEqual({ name: 'limit', type: 'number|null', required: false });
    const text = await cli(['types'], null);
    expect(text.stdout).toMatch(/^gpu\.reject {2}.+\n {4}reason: string\n {4}requested: integer\n/m);
  });
});
