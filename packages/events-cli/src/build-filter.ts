import type { Ds01Event } from '@ds01/events-core';
import { literalOf, typeMatcher } from './type-match.js';

export interface DetailCondition {
  /** Key inside `details`; dots reach into nested objects. */
  key: string;
  /** Any of these (string comparison of the stored value). */
  values: string[];
}

/** What the user asked for. Within one field the values are alternatives (OR); fields combine with AND. */
export interface FilterSpec {
  users?: string[];
  types?: string[];
  containers?: string[];
  sources?: string[];
  actors?: string[];
  hosts?: string[];
  ids?: string[];
  details?: DetailCondition[];
  /** Inclusive bounds, epoch ms. */
  since?: number;
  until?: number;
}

export interface EventFilter {
  since?: number;
  until?: number;
  /**
   * Raw-line prefilter: for every group, the line must contain one of its
   * byte strings, else it cannot match and is not parsed. Empty when every
   * line must be parsed.
   */
  needles: Buffer[][];
  /** The full test on a parsed event (time bounds excluded: the readers apply them). */
  test: (event: Ds01Event) => boolean;
  /** True when nothing but time narrows the query. */
  unfiltered: boolean;
  /** True when the test reads only timestamp, type, user and source (the fields written before `details`). */
  envelopeOnly: boolean;
  /** What it was built from: a worker thread rebuilds the filter from it (functions do not cross). */
  spec: FilterSpec;
}

/** Text a writer stores byte-for-byte inside a JSON string (no escapes, no non-ASCII). */
const VERBATIM = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

function needleGroup(values: string[], toNeedle: (v: string) => string): Buffer[] | null {
  const group: Buffer[] = [];
  for (const v of values) {
    const n = toNeedle(v);
    if (n.length < 2 || !VERBATIM.test(n.replace(/"/g, ''))) return null;
    group.push(Buffer.from(n, 'latin1'));
  }
  return group.length > 0 ? group : null;
}

function typeNeedle(pattern: string): string {
  if (pattern.startsWith('!')) return '';
  return literalOf(pattern);
}

export function detailValue(details: unknown, key: string): unknown {
  let cur: unknown = details;
  if (cur && typeof cur === 'object' && Object.hasOwn(cur, key)) return (cur as Record<string, unknown>)[key];
  for (const part of key.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

function oneOf(values: string[] | undefined): Set<string> | undefined {
  return values && values.length > 0 ? new Set(values) : undefined;
}

export function buildFilter(spec: FilterSpec): EventFilter {
  const tests: ((e: Ds01Event) => boolean)[] = [];
  const needles: Buffer[][] = [];
  const addNeedles = (g: Buffer[] | null) => {
    if (g) needles.push(g);
  };
  // Needles never start with a quote: the byte search scans for a needle's
  // first byte, and quotes are the commonest byte in JSON (about 2x slower).
  const quoted = (v: string) => `${v}"`;

  const users = oneOf(spec.users);
  if (users) {
    tests.push((e) => typeof e.user === 'string' && users.has(e.user));
    addNeedles(needleGroup([...users], quoted));
  }
  if (spec.types && spec.types.length > 0) {
    const match = typeMatcher(spec.types);
    tests.push((e) => match(e.event_type));
    addNeedles(needleGroup(spec.types, typeNeedle));
  }
  const containers = spec.containers && spec.containers.length > 0 ? spec.containers : undefined;
  if (containers) {
    tests.push((e) => {
      const d = e.details as Record<string, unknown> | undefined;
      if (!d) return false;
      const name = d.container;
      const id = d.container_id;
      return containers.some((c) => name === c || (typeof id === 'string' && c.length >= 6 && id.startsWith(c)));
    });
    addNeedles(needleGroup(containers, (v) => v));
  }
  const sources = oneOf(spec.sources);
  if (sources) {
    tests.push((e) => typeof e.source === 'string' && sources.has(e.source));
    addNeedles(needleGroup([...sources], quoted));
  }
  const hosts = oneOf(spec.hosts);
  if (hosts) {
    tests.push((e) => typeof e.host === 'string' && hosts.has(e.host));
    addNeedles(needleGroup([...hosts], quoted));
  }
  const ids = oneOf(spec.ids);
  if (ids) {
    tests.push((e) => typeof e.id === 'string' && ids.has(e.id));
    addNeedles(needleGroup([...ids], quoted));
  }
  const actors = oneOf(spec.actors);
  if (actors) {
    tests.push((e) => {
      const a = e.actor;
      if (!a) return false;
      return (
        (typeof a.user === 'string' && actors.has(a.user)) ||
        (typeof a.as_user === 'string' && actors.has(a.as_user)) ||
        actors.has(String(a.uid))
      );
    });
    if (![...actors].some((a) => /^\d+$/.test(a))) addNeedles(needleGroup([...actors], quoted));
  }
  for (const cond of spec.details ?? []) {
    const wanted = new Set(cond.values);
    tests.push((e) => {
      const v = detailValue(e.details, cond.key);
      return v !== undefined && wanted.has(valueText(v));
    });
    addNeedles(needleGroup(cond.values, (v) => v));
  }

  const test =
    tests.length === 0
      ? () => true
      : tests.length === 1
        ? (tests[0] as (e: Ds01Event) => boolean)
        : (e: Ds01Event) => tests.every((t) => t(e));
  const envelopeOnly = !containers && !hosts && !ids && !actors && (spec.details ?? []).length === 0;
  const filter: EventFilter = { needles, test, unfiltered: tests.length === 0, envelopeOnly, spec };
  if (spec.since !== undefined) filter.since = spec.since;
  if (spec.until !== undefined) filter.until = spec.until;
  return filter;
}

/** True when a raw line (bytes [start, end) of buf) passes every needle group. */
export function passesNeedles(buf: Buffer, start: number, end: number, groups: Buffer[][], skipGroup = -1): boolean {
  for (let g = 0; g < groups.length; g++) {
    if (g === skipGroup) continue;
    const group = groups[g] as Buffer[];
    const line = buf.subarray(start, end);
    let found = false;
    for (const n of group) {
      if (line.indexOf(n) >= 0) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
