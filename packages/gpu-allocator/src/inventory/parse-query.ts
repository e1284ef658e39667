/** The fields ds01-gpu asks `--query-gpu` for, in this order. */
export const QUERY_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'mig.mode.current'] as const;

export interface QueriedGpu {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number | undefined;
  migEnabled: boolean;
}

/**
 * Parses `--query-gpu=index,uuid,name,memory.total,mig.mode.current
 * --format=csv,noheader,nounits`. A header line (units stay in header cells
 * even with nounits) is skipped if present. MIG mode counts only when exactly
 * `Enabled` (`[N/A]` on parts without MIG).
 */
export function parseGpuQuery(text: string): QueriedGpu[] {
  const out: QueriedGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('index')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < QUERY_FIELDS.length) throw new Error(`unexpected nvidia-smi --query-gpu line: ${JSON.stringify(line)}`);
    // A GPU name never holds a comma today; take the fixed columns from both ends to be safe.
    const index = Number(cells[0]);
    const uuid = cells[1] ?? '';
    const mig = cells[cells.length - 1] ?? '';
    const memory = Number(cells[cells.length - 2]);
    const name = cells.slice(2, cells.length - 2).join(', ');
    if (!Number.isInteger(index) || !uuid.startsWith('GPU-'))
      throw new Error(`unexpected nvidia-smi --query-gpu line: ${JSON.stringify(line)}`);
    out.push({ index, uuid, name, memoryMiB: Number.isFinite(memory) ? memory : undefined, migEnabled: mig === 'Enabled' });
  }
  return out;
}
