import { UsageError } from '../deny.js';

export interface GpuRequest {
  /** Every GPU (`all`, `count=all`). */
  all: boolean;
  count: number;
  /** Ids the user named (indexes or UUIDs), when `device=` was used. */
  devices: string[];
}

/** Splits one CSV record as docker's --gpus reader does: commas, with "double-quoted" fields. */
export function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(cur);
      cur = '';
    } else cur += ch;
  }
  fields.push(cur);
  return fields.map((f) => f.trim()).filter((f) => f !== '');
}

/** One `--gpus` value in any form docker accepts: `all`, `2`, `count=2`, `device=0,1` (quoted), `capabilities=...`. */
export function parseGpuValue(value: string): GpuRequest {
  const req: GpuRequest = { all: false, count: 0, devices: [] };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    if (eq < 0) {
      if (field === 'all') req.all = true;
      else if (/^\d+$/.test(field)) req.count = Number(field);
      else throw new UsageError(`--gpus ${value}: '${field}' is not a GPU count (use a number, all, or "device=ID,ID")`);
      continue;
    }
    const key = field.slice(0, eq).toLowerCase();
    const val = field.slice(eq + 1);
    if (key === 'count') {
      if (val === 'all') req.all = true;
      else if (/^\d+$/.test(val)) req.count = Number(val);
      else throw new UsageError(`--gpus ${value}: count must be an integer or all`);
    } else if (key === 'device') {
      req.devices.push(
        ...val
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean),
      );
    } else if (key !== 'capabilities' && key !== 'driver' && key !== 'options') {
      throw new UsageError(`--gpus ${value}: unknown field '${key}'`);
    }
  }
  return req;
}

/**
 * How many GPUs a set of `--gpus` flags asks for. `all` means as many as one
 * container may have (`perContainerMax`), 1 when that is unlimited; a request
 * naming only capabilities is one GPU.
 */
export function gpuCount(values: readonly string[], perContainerMax: number | null): number {
  let total = 0;
  for (const value of values) {
    const r = parseGpuValue(value);
    if (r.devices.length > 0) total += r.devices.length;
    else if (r.all) total += perContainerMax && perContainerMax > 0 ? perContainerMax : 1;
    else total += r.count > 0 ? r.count : 1;
  }
  return total;
}

/** The `--gpus` value for the allocated devices, quoted so that docker reads several ids as one field. */
export function deviceGpuValue(uuids: readonly string[]): string {
  return `"device=${uuids.join(',')}"`;
}
