import fs from 'node:fs';
import path from 'node:path';
import type { Ds01Event } from '@ds01/events-core';

/**
 * The cursor file holds the id of the last event a consumer was given
 * (events-core ids are UUIDv7, so the id also says when it was written).
 * For an event without an id (v1 and legacy records) it holds
 * `@<timestamp>` instead.
 */
export interface Cursor {
  id?: string;
  /** Epoch ms the cursor event was written at (from the UUIDv7 or the timestamp). */
  time: number;
}

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export class CursorError extends Error {}

/** Reads the cursor; undefined when the file does not exist yet (first run: start at the beginning). */
export function readCursor(file: string): Cursor | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CursorError(`cannot read cursor file ${file}: ${(err as Error).message}`);
  }
  if (text === '') return undefined;
  if (text.startsWith('@')) {
    const time = Date.parse(text.slice(1));
    if (Number.isNaN(time)) throw new CursorError(`cursor file ${file} holds an unreadable timestamp: ${text}`);
    return { time };
  }
  if (!UUID7.test(text)) throw new CursorError(`cursor file ${file} does not hold an event id: ${text.slice(0, 80)}`);
  return { id: text.toLowerCase(), time: uuid7Time(text) };
}

export function uuid7Time(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** Writes the cursor atomically (temp file + rename), so a crash never leaves half a cursor. */
export function writeCursor(file: string, event: Ds01Event): void {
  const text = typeof event.id === 'string' && UUID7.test(event.id) ? event.id : `@${event.timestamp}`;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${text}\n`);
  fs.renameSync(tmp, file);
}
