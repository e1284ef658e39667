import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGpuList } from '../src/high-demand.js';

const fixtures = path.resolve(import.meta.dirname, '../../../test-support/fixtures/nvidia-smi');

describe('parseGpuList', () => {
  it('counts whole GPUs as 1 and MIG devices by their share of 7 slices', () => {
    const units = parseGpuList(fs.readFileSync(path.join(fixtures, 'mig-mixed/list.txt'), 'utf8'));
    expect(units.filter((u) => u.weight === 1)).toHaveLength(2);
    expect(units.filter((u) => u.uuid.startsWith('MIG-'))).toHaveLength(11);
    // GPU 2: 3g + 2g + 1g + 1g; GPU 3: seven 1g
    expect(units.reduce((s, u) => s + u.weight, 0)).toBeCloseTo(2 + 7 / 7 + 7 / 7);
    expect(units.find((u) => u.uuid === 'MIG-d7341a4d-8617-551d-916a-14fd2230c985')).toMatchObject({ weight: 3 / 7, index: '2:0' });
  });

  it('gives a MIG-enabled GPU without instances no capacity', () => {
    const list = fs.readFileSync(path.join(fixtures, 'mig-empty/list.txt'), 'utf8');
    expect(parseGpuList(list)).toHaveLength(2);
    const units = parseGpuList(list, new Set(['GPU-ef632a81-aa48-9f2f-a992-61487695db24']));
    expect(units.map((u) => u.uuid)).toEqual(['GPU-a44cb7ac-4e8b-d55e-d81c-feb6e5103054']);
  });
});
