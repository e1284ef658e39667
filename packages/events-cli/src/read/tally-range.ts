import type { Ds01Event } from '@ds01/events-core';
import type { LogFile } from '@ds01/events-core/read';
import type { EventFilter } from '../build-filter.js';
import { forwardChunks } from './chunks.js';
import { parseHit, type ReadStats } from './hit.js';
import { Interner } from './intern.js';
import { lineSpans } from './line-spans.js';
import { readEnvelope, spans } from './read-envelope.js';

/** A byte range of one log file: from a line start to a line start, or to the end of the file. */
export interface Piece {
  file: LogFile;
  start: number;
  /** A line start; absent: to the end of the file as it is when read. */
  end?: number;
  /** A descriptor of the plain file, opened when the scan was planned (valid in worker threads too). */
  fd?: number;
}

/** Receives the matching events of a tally, as their parts. */
export interface TallySink {
  addParts(time: number, type: string, user: string | undefined, source: string | undefined): void;
}

export interface TallyOptions {
  filter: EventFilter;
  /** The scan ends at the first event newer than this (see scanForward). */
  stopAfter?: number | undefined;
  /** The two read blocks, reused from one piece to the next (default: two new 4 MiB blocks). */
  blocks?: [Buffer, Buffer];
  /** Only the number of events is wanted (--count): with no filter to test, the strings are not made. */
  countOnly?: boolean;
}

/**
 * Counts the matching events of one piece, for --summary and --count: the
 * same lines, bounds, stop and skipped count as scanForward, without making
 * an event per line. Lines in the writer's exact shape are read straight
 * from the bytes (readEnvelope checks that they are strict JSON); every
 * other line goes through parseHit, the path every other mode takes. With a
 * filter that reads more than the envelope, every line goes through
 * parseHit. Returns true when the scan stopped at an event newer than
 * `stopAfter`.
 */
export async function tallyRange(piece: Piece, sink: TallySink, stats: ReadStats, options: TallyOptions): Promise<boolean> {
  const { filter, stopAfter } = options;
  const { since, until, needles, test, unfiltered } = filter;
  const fast = filter.envelopeOnly;
  const noStrings = options.countOnly === true && unfiltered;
  const types = new Interner();
  const users = new Interner();
  const sources = new Interner();
  // The envelope-only test reads nothing but these three fields.
  const probe = { timestamp: '', event_type: '', schema_version: '' } as Ds01Event;
  let stopped = false;

  /** Applies the bounds and the test; false once the scan must stop. */
  const take = (time: number, type: string, user: string | undefined, source: string | undefined, event?: Ds01Event): boolean => {
    if (stopAfter !== undefined && time > stopAfter) {
      stopped = true;
      return false;
    }
    if (since !== undefined && time < since) return true;
    if (until !== undefined && time > until) return true;
    if (!unfiltered) {
      let e = event;
      if (!e) {
        probe.event_type = type;
        probe.user = user as string;
        probe.source = source as string;
        e = probe;
      }
      if (!test(e)) return true;
    }
    sink.addParts(time, type, user, source);
    return true;
  };

  /** The line [s, e) through readEnvelope (unless it already failed), else parseHit; false once the scan must stop. */
  const line = (buf: Buffer, s: number, e: number, tryFast: boolean): boolean => {
    if (tryFast && readEnvelope(buf, s, e)) {
      if (noStrings) return take(spans.time, '', undefined, undefined);
      const type = types.get(buf, spans.typeStart, spans.typeEnd);
      const user = spans.userStart < 0 ? undefined : users.get(buf, spans.userStart, spans.userEnd);
      const source = spans.sourceStart < 0 ? undefined : sources.get(buf, spans.sourceStart, spans.sourceEnd);
      return take(spans.time, type, user, source);
    }
    const hit = parseHit(buf.toString('utf8', s, e), piece.file.path, 0);
    if (!hit) {
      if (!isBlank(buf, s, e)) stats.skipped++;
      return true;
    }
    const ev = hit.event;
    return take(hit.time, ev.event_type, ev.user, ev.source, ev);
  };

  const chunks = forwardChunks(piece.file, piece.start, piece.end, options.blocks, piece.fd);
  try {
    for await (const { buf } of chunks) {
      const len = buf.length;
      if (needles.length > 0) {
        for (const [s, e] of lineSpans(buf, needles)) if (!line(buf, s, e, fast)) return true;
        continue;
      }
      let s = 0;
      while (s < len) {
        // A line read from the bytes ends where readEnvelope found its end: no separate newline search.
        if (fast && readEnvelope(buf, s, len)) {
          if (noStrings) {
            if (!take(spans.time, '', undefined, undefined)) return true;
            s = spans.lineEnd + 1;
            continue;
          }
          const type = types.get(buf, spans.typeStart, spans.typeEnd);
          const user = spans.userStart < 0 ? undefined : users.get(buf, spans.userStart, spans.userEnd);
          const source = spans.sourceStart < 0 ? undefined : sources.get(buf, spans.sourceStart, spans.sourceEnd);
          if (!take(spans.time, type, user, source)) return true;
          s = spans.lineEnd + 1;
          continue;
        }
        let nl = buf.indexOf(0x0a, s);
        if (nl < 0) nl = len;
        if (nl > s && !line(buf, s, nl, false)) return true;
        s = nl + 1;
      }
    }
  } finally {
    await chunks.return(undefined);
  }
  return stopped;
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
