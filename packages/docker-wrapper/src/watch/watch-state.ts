import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';

/** Where the events log stood at the last state write: later lines may be this process's unrecorded events. */
export interface LogMark {
  file: string;
  offset: number;
  ino: number;
}

export interface WatchState {
  version: 1;
  /** Resume here (nanoseconds, inclusive): every event before it is done. */
  since_nano: string;
  /** Key of the last container event handled; proves continuity while Docker still holds it. */
  anchor: string | null;
  /** Keys handled at or after `since_nano` (events inside the reordering window). */
  recent: string[];
  log: LogMark | null;
  /** The process that wrote this state (its events after `log` carry this pid). */
  pid: number;
  updated_at: string;
}

export type LoadedState =
  | { kind: 'missing' }
  | { kind: 'ok'; state: WatchState }
  /** Unreadable: moved aside; `lastWrite` is when it was last written (where a gap starts). */
  | { kind: 'corrupt'; movedTo: string; error: string; lastWrite: Date | null };

const nano = { type: 'string', pattern: '^[0-9]{1,25}$' } as const;
const stateSchema = {
  type: 'object',
  required: ['version', 'since_nano', 'anchor', 'recent', 'log', 'pid'],
  properties: {
    version: { const: 1 },
    since_nano: nano,
    anchor: { type: ['string', 'null'] },
    recent: { type: 'array', items: { type: 'string' }, maxItems: 100000 },
    log: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['file', 'offset', 'ino'],
          properties: { file: { type: 'string' }, offset: { type: 'integer', minimum: 0 }, ino: { type: 'number' } },
        },
      ],
    },
    pid: { type: 'integer', minimum: 0 },
    updated_at: { type: 'string' },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<WatchState>(stateSchema);

export function loadWatchState(file: string): LoadedState {
  let text: string;
  let lastWrite: Date | null = null;
  try {
    text = fs.readFileSync(file, 'utf8');
    lastWrite = fs.statSync(file).mtime;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  let problem: string;
  try {
    const data: unknown = JSON.parse(text);
    if (validate(data)) return { kind: 'ok', state: data };
    problem = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
  } catch (err) {
    problem = (err as Error).message;
  }
  const movedTo = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '')}`;
  try {
    fs.renameSync(file, movedTo);
    return { kind: 'corrupt', movedTo, error: problem, lastWrite };
  } catch {
    return { kind: 'corrupt', movedTo: '', error: problem, lastWrite };
  }
}

/**
 * Writes through a temporary file and a rename, so the next start (after a
 * SIGKILL too) sees the old state or the new one, never half. No fsync: the
 * page cache survives a killed process; after a power loss the state may be
 * older, and the log recovery plus the gap check cover that.
 */
export function saveWatchState(file: string, state: WatchState): void {
  state.updated_at = new Date().toISOString();
  const text = `${JSON.stringify(state)}\n`;
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(tmp, text, { mode: 0o644 });
  }
  fs.renameSync(tmp, file);
}

/** Where the log ends now (the offset the next recovery scans from). */
export function markLog(file: string): LogMark | null {
  try {
    const st = fs.statSync(file);
    return { file, offset: st.size, ino: st.ino };
  } catch {
    return { file, offset: 0, ino: 0 };
  }
}
