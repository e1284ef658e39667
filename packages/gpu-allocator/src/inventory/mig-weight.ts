/**
 * Compute slices of a whole GPU: 7 on A100/H100/H200 (and most MIG parts), 4 on
 * the A30. Unknown names use 7, the common case.
 */
export function slicesPerGpu(gpuName: string): number {
  return /\bA30\b/i.test(gpuName) ? 4 : 7;
}

/**
 * The share of a GPU a MIG profile gets, from its compute slices: `3g.40gb`
 * is 3 slices; a compute-instance profile `1c.3g.20gb` runs on 1 slice of a 3g
 * instance, so it is charged 1 slice. DS01 gave such profiles (and any it could
 * not parse) weight 0, which made MIG usage free; an unparseable profile here
 * is charged a whole GPU, the safe side.
 */
export function migProfileWeight(profile: string, slices: number): number {
  const ci = /^(\d+)c\.(\d+)g\./i.exec(profile);
  if (ci) return Math.min(1, Number(ci[1]) / slices);
  const gi = /^(\d+)g\./i.exec(profile);
  if (gi) return Math.min(1, Number(gi[1]) / slices);
  return 1;
}
