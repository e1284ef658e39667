import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * A sudoers.d file with a syntax error disables sudo for everyone, so the
 * rule is checked by visudo before it is put in place. Without visudo (sudo
 * not installed) the rule cannot be used anyway; it is installed unchecked.
 */
export async function validateSudoers(content: string): Promise<string | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-sudoers-'));
  const file = path.join(dir, 'ds01');
  try {
    fs.writeFileSync(file, content, { mode: 0o440 });
    const res = await execa('visudo', ['-c', '-q', '-f', file], { reject: false, all: true });
    if (res.failed && (res as { code?: string }).code === 'ENOENT') return null;
    return res.exitCode === 0 ? null : (res.all?.trim() || `visudo exited ${res.exitCode}`).replaceAll(file, 'ds01');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function visudoAvailable(): Promise<boolean> {
  const res = await execa('visudo', ['-V'], { reject: false });
  return !(res.failed && (res as { code?: string }).code === 'ENOENT');
}
