import fs from 'node:fs';
import { UsageError } from '../deny.js';

/**
 * Lines of a docker --env-file / --label-file: blank lines and `#` comments
 * skipped, the rest kept as written (`KEY=VALUE`, or `KEY` for env files).
 * The wrapper reads the file once and passes its lines inline, so the file
 * cannot change between the check and docker's own read.
 */
export function readKvFile(file: string, flag: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s+/, ''))
    .filter((l) => l !== '' && !l.startsWith('#'));
}
