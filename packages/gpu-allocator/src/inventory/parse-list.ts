/** One GPU line of `nvidia-smi -L` with the MIG devices listed under it. */
export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  mig: { device: number; profile: string; uuid: string }[];
}

const GPU_LINE = /^GPU\s+(\d+):\s+(.*?)\s+\(UUID:\s*(GPU-[0-9A-Za-z-]+)\)\s*$/;
// Column spacing varies between drivers; the R450 UUID form MIG-GPU-<uuid>/<gi>/<ci> is accepted too.
const MIG_LINE = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s*(MIG-[^)\s]+)\)\s*$/;

/** Parses `nvidia-smi -L`. Unrecognised lines are ignored (drivers add notes). */
export function parseGpuList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    const g = GPU_LINE.exec(line);
    if (g) {
      gpus.push({ index: Number(g[1]), name: g[2] ?? '', uuid: g[3] ?? '', mig: [] });
      continue;
    }
    const m = MIG_LINE.exec(line);
    const owner = gpus[gpus.length - 1];
    if (m && owner) owner.mig.push({ profile: m[1] ?? '', device: Number(m[2]), uuid: m[3] ?? '' });
  }
  return gpus;
}
