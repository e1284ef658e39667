import fs from 'node:fs';
import type { LogFile } from '@ds01/events-core/read';
import type { EventFilter } from '../build-filter.js';
import { backwardChunks, forwardChunks } from './chunks.js';
import { type Hit, parseHit, type ReadStats } from './hit.js';
import { lineSpans } from './line-spans.js';

const BATCH = 256;

/** Set by a scan when it saw an event newer than `stopAfter`: later files need not be read. */
export interface ScanState {
  stopped: boolean;
}

/**
 * Matching events of one file, oldest first, from byte `start`. Events
 * outside [since, until] are passed over; the scan ends at the first event
 * newer than `stopAfter` (the log is append-ordered, give or take the skew).
 */
export async function* scanForward(
  file: LogFile,
  start: number,
  filter: EventFilter,
  stats: ReadStats,
  state: ScanState,
  stopAfter?: number,
): AsyncGenerator<Hit[]> {
  const { since, until, needles, test } = filter;
  for await (const { buf, base } of forwardChunks(file, start)) {
    // Batches: per-event promises would cost more than the parsing.
    const batch: Hit[] = [];
    for (const [s, e] of lineSpans(buf, needles)) {
      const hit = parseHit(buf.toString('utf8', s, e), file.path, base + e + 1);
      if (!hit) {
        if (!isBlank(buf, s, e)) stats.skipped++;
        continue;
      }
      if (stopAfter !== undefined && hit.time > stopAfter) {
        state.stopped = true;
        if (batch.length > 0) yield batch;
        return;
      }
      if (since !== undefined && hit.time < since) continue;
      if (until !== undefined && hit.time > until) continue;
      if (!test(hit.event)) continue;
      batch.push(hit);
      // Small batches: big ones outlive the young generation and make the GC work.
      if (batch.length >= BATCH) yield batch.splice(0);
    }
    if (batch.length > 0) yield batch;
  }
}

/**
 * Matching events of one file, newest first. Plain files are read backward
 * from the end; an archive is read forward and its matches replayed in
 * reverse (archives are bounded by the rotation size). Ends at the first
 * event older than `stopBefore`.
 */
export async function* scanBackward(
  file: LogFile,
  filter: EventFilter,
  stats: ReadStats,
  state: ScanState,
  stopBefore?: number,
): AsyncGenerator<Hit[]> {
  const { since, until, test } = filter;
  const accept = (hit: Hit): boolean => {
    if (since !== undefined && hit.time < since) return false;
    if (until !== undefined && hit.time > until) return false;
    return test(hit.event);
  };
  if (file.compressed) {
    const inner: ScanState = { stopped: false };
    const all: Hit[] = [];
    const noBounds: EventFilter = { ...filter, test: () => true };
    delete noBounds.since;
    delete noBounds.until;
    for await (const batch of scanForward(file, 0, noBounds, stats, inner)) for (const hit of batch) all.push(hit);
    const out: Hit[] = [];
    for (let i = all.length - 1; i >= 0; i--) {
      const hit = all[i] as Hit;
      if (stopBefore !== undefined && hit.time < stopBefore) {
        state.stopped = true;
        break;
      }
      if (accept(hit)) out.push(hit);
    }
    if (out.length > 0) yield out;
    return;
  }
  let size: number;
  try {
    size = fs.statSync(file.path).size;
  } catch {
    return;
  }
  for await (const { buf, base } of backwardChunks(file.path, size)) {
    const spans = [...lineSpans(buf, filter.needles)];
    const batch: Hit[] = [];
    for (let i = spans.length - 1; i >= 0; i--) {
      const [s, e] = spans[i] as [number, number];
      const hit = parseHit(buf.toString('utf8', s, e), file.path, base + e + 1);
      if (!hit) {
        if (!isBlank(buf, s, e)) stats.skipped++;
        continue;
      }
      if (stopBefore !== undefined && hit.time < stopBefore) {
        state.stopped = true;
        if (batch.length > 0) yield batch;
        return;
      }
      if (accept(hit)) batch.push(hit);
      if (batch.length >= BATCH) yield batch.splice(0);
    }
    if (batch.length > 0) yield batch;
  }
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
