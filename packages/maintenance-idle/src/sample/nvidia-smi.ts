import { execa } from 'execa';

export function nvidiaSmiPath(): string {
  return process.env.DS01_NVIDIA_SMI || 'nvidia-smi';
}

/** Runs nvidia-smi; resolves to its stdout, or throws with a one-line reason. */
export async function runNvidiaSmi(args: string[]): Promise<string> {
  const bin = nvidiaSmiPath();
  const result = await execa(bin, args, { timeout: 15_000, reject: false, stripFinalNewline: false });
  if (result.failed || result.exitCode !== 0) {
    const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? '';
    throw new Error(
      `${bin} ${args[0]}: ${result.exitCode === undefined ? result.shortMessage : `exit ${result.exitCode}`}${text ? `: ${text}` : ''}`,
    );
  }
  return String(result.stdout);
}

/** CSV rows of a `--format=csv,noheader,nounits` answer. */
export function csvRows(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(',').map((c) => c.trim()));
}
