import os from 'node:os';

const byNumber = new Map<number, string>();
for (const [name, number] of Object.entries(os.constants.signals)) {
  if (!byNumber.has(number)) byNumber.set(number, name);
}

/** The signal that ended a process, from a shell-style exit code (128 + n); null when it exited by itself. */
export function signalFromExitCode(exitCode: number | null): string | null {
  if (exitCode === null || exitCode <= 128 || exitCode > 128 + 64) return null;
  return byNumber.get(exitCode - 128) ?? `SIG${exitCode - 128}`;
}
