import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeNvidiaSmi } from '../../../test-support/fake-gpus.js';
import { buildInventory, compareSlotIds, InventoryError, migProfileWeight, parseGpuList, readInventory } from '../src/index.js';

const fixtures = path.resolve(__dirname, '../../../test-support/fixtures/nvidia-smi');
const env = (scenario: string) => ({ ...process.env, DS01_NVIDIA_SMI: fakeNvidiaSmi, DS01_FAKE_GPUS: scenario });

describe('nvidia-smi parsing', () => {
  it('reads MIG devices under their GPU with numeric slot ids', () => {
    const gpus = parseGpuList(fs.readFileSync(path.join(fixtures, 'mig-mixed/list.txt'), 'utf8'));
    expect(gpus.map((g) => [g.index, g.mig.length])).toEqual([
      [0, 0],
      [1, 0],
      [2, 4],
      [3, 7],
    ]);
    expect(gpus[2]?.mig[0]).toEqual({ device: 0, profile: '3g.40gb', uuid: 'MIG-d7341a4d-8617-551d-916a-14fd2230c985' });
  });

  it('weighs a MIG slice by its compute slices, compute-instance profiles included', () => {
    expect(migProfileWeight('3g.20gb', 7)).toBeCloseTo(3 / 7);
    expect(migProfileWeight('1g.10gb', 7)).toBeCloseTo(1 / 7);
    expect(migProfileWeight('1c.3g.20gb', 7)).toBeCloseTo(1 / 7);
    expect(migProfileWeight('2g.12gb', 4)).toBeCloseTo(0.5);
    expect(migProfileWeight('weird', 7)).toBe(1);
  });

  it('orders slot ids numerically', () => {
    expect(['10', '2', '1.10', '1.2', '0'].sort(compareSlotIds)).toEqual(['0', '1.2', '1.10', '2', '10']);
  });
});

describe('readInventory through the nvidia-smi stand-in', () => {
  it('a100x4: four whole GPUs of weight 1', async () => {
    const inv = await readInventory(env('a100x4'));
    expect(inv.slots.map((s) => [s.slot, s.weight, s.mig])).toEqual([
      ['0', 1, false],
      ['1', 1, false],
      ['2', 1, false],
      ['3', 1, false],
    ]);
  });

  it('mig-mixed: whole GPUs 0 and 1, MIG slices of 2 and 3, MIG-mode GPUs never whole', async () => {
    const inv = await readInventory(env('mig-mixed'));
    expect(inv.slots).toHaveLength(2 + 4 + 7);
    expect(inv.slots.find((s) => s.uuid === 'GPU-a224bd4c-3a9c-b838-5990-d6f2219490c8')).toBeUndefined();
    const s20 = inv.slots.find((s) => s.slot === '2.0');
    expect(s20?.uuid).toBe('MIG-d7341a4d-8617-551d-916a-14fd2230c985');
    expect(s20?.weight).toBeCloseTo(3 / 7);
    expect(inv.slots.find((s) => s.slot === '2.1')?.weight).toBeCloseTo(2 / 7);
    const total = inv.slots.reduce((a, s) => a + s.weight, 0);
    expect(total).toBeCloseTo(2 + 7 / 7 + 7 / 7);
  });

  it('mig-empty: a MIG-mode GPU without instances is reported unusable, not offered', async () => {
    const inv = await readInventory(env('mig-empty'));
    expect(inv.slots.map((s) => s.slot)).toEqual(['0']);
    expect(inv.unusable).toEqual([expect.objectContaining({ slot: '1', uuid: 'GPU-ef632a81-aa48-9f2f-a992-61487695db24' })]);
  });

  it('asks -L only when a GPU is in MIG mode: one nvidia-smi process per read without MIG, two with', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-smi-calls-'));
    const calls = (scenario: string) => {
      const log = path.join(dir, `${scenario}.log`);
      return readInventory({ ...env(scenario), DS01_FAKE_NVIDIA_SMI_LOG: log }).then(() =>
        fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as string[])[0]?.split('=')[0]),
      );
    };
    expect(await calls('a100x4')).toEqual(['--query-gpu']);
    expect(await calls('mig-mixed')).toEqual(['--query-gpu', '-L']);
    expect(await calls('mig-empty')).toEqual(['--query-gpu', '-L']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('without -L, whole GPUs come from the query alone, with its names and memory', () => {
    const smi = (...args: string[]) => execFileSync(fakeNvidiaSmi, args, { env: env('a100x4'), encoding: 'utf8' });
    const query = smi('--query-gpu=index,uuid,name,memory.total,mig.mode.current', '--format=csv,noheader,nounits');
    const fromQuery = buildInventory(null, query);
    expect(fromQuery.slots[0]).toMatchObject({ slot: '0', name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920 });
    expect(fromQuery).toEqual(buildInventory(smi('-L'), query));
  });

  it('driver failure fails closed with the driver message; no GPU is an empty inventory', async () => {
    await expect(readInventory(env('driver-failure'))).rejects.toThrow(InventoryError);
    await expect(readInventory(env('driver-failure'))).rejects.toThrow(/couldn't communicate with the NVIDIA driver/);
    expect((await readInventory(env('no-gpu'))).slots).toEqual([]);
    await expect(readInventory({ ...process.env, DS01_NVIDIA_SMI: '/nonexistent/nvidia-smi' })).rejects.toThrow(/not found/);
  });

  it('an nvidia-smi that does not answer fails closed after DS01_NVIDIA_SMI_TIMEOUT_MS; exit codes are named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gpu-smi-'));
    const hung = path.join(dir, 'hung');
    fs.writeFileSync(hung, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const failing = path.join(dir, 'failing');
    fs.writeFileSync(failing, '#!/bin/sh\necho "Unable to determine the device handle for GPU0000:17:00.0: Unknown Error" >&2\nexit 15\n', {
      mode: 0o755,
    });
    await expect(readInventory({ ...process.env, DS01_NVIDIA_SMI: hung, DS01_NVIDIA_SMI_TIMEOUT_MS: '300' })).rejects.toThrow(
      /hung --query-gpu=\S+ did not answer within 0.3s/,
    );
    await expect(readInventory({ ...process.env, DS01_NVIDIA_SMI: failing })).rejects.toThrow(
      /failing --query-gpu=\S+ failed \(exit 15\): Unable to determine the device handle/,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('twelve GPUs: slot 2 sorts before slot 10', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-gpu-12-'));
    const uuid = (i: number) => `GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
    const list = Array.from({ length: 12 }, (_, i) => `GPU ${i}: NVIDIA H100 80GB HBM3 (UUID: ${uuid(i)})`).join('\n');
    const header = 'index, uuid, name, pci.bus_id, memory.total [MiB], mig.mode.current';
    const rows = Array.from(
      { length: 12 },
      (_, i) => `${i}, ${uuid(i)}, NVIDIA H100 80GB HBM3, 00000000:${(16 + i).toString(16).toUpperCase()}:00.0, 81559 MiB, Disabled`,
    );
    fs.writeFileSync(path.join(dir, 'list.txt'), `${list}\n`);
    fs.writeFileSync(path.join(dir, 'query-gpu.csv'), `${[header, ...rows].join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'query-compute-apps.csv'), 'pid, process_name, gpu_uuid, used_gpu_memory [MiB]\n');
    const inv = await readInventory(env(dir));
    expect(inv.slots.map((s) => s.slot)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
  });

  it('refuses to guess when the two outputs disagree', () => {
    expect(() => buildInventory('GPU 0: X (UUID: GPU-aaaa)\n', '')).toThrow(/refusing to guess/);
  });
});
