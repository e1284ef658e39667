/** One unit that can be handed to a container: a whole GPU or a MIG instance. */
export interface Slot {
  uuid: string;
  /** Human id: `0` for a GPU, `2.1` for MIG device 1 of GPU 2. */
  slot: string;
  name: string;
  /** Share of a whole GPU (1 for a whole GPU, slices/7 for MIG on A100/H100/H200). */
  weight: number;
  mig: boolean;
  /** The physical GPU's index and UUID (itself for a whole GPU). */
  gpuIndex: number;
  gpuUuid: string;
  profile?: string;
  memoryMiB?: number;
}

/** A physical GPU that cannot be handed out (MIG mode on, no instances). */
export interface UnusableGpu {
  uuid: string;
  slot: string;
  name: string;
  reason: string;
}

export interface Inventory {
  /** Every usable slot, in numeric slot order. */
  slots: Slot[];
  unusable: UnusableGpu[];
  /** Physical GPUs by index, for mapping `--gpus device=0` style ids. */
  gpus: { index: number; uuid: string; name: string; migEnabled: boolean; migDevices: string[] }[];
}
