import type { Hit } from './read/hit.js';

export interface Summary {
  total: number;
  first: string | null;
  last: string | null;
  by_type: Record<string, number>;
  by_user: Record<string, number>;
  by_source: Record<string, number>;
  /** Calendar days (local zone, or UTC with --utc), oldest first. */
  by_day: Record<string, number>;
}

/** Key used for events without a user or source. */
export const NONE = '(none)';

/** What a summariser has counted, in a form that crosses a worker boundary (structured clone). */
export interface SummaryPart {
  total: number;
  firstTime: number;
  lastTime: number;
  types: [string, number][];
  users: [string, number][];
  sources: [string, number][];
  days: [string, number][];
}

/** Counts matching events by type, user, source and day, in one pass and constant memory per key. */
export class Summariser {
  private total = 0;
  private firstTime = Number.POSITIVE_INFINITY;
  private lastTime = Number.NEGATIVE_INFINITY;
  private readonly types = new Map<string, number>();
  private readonly users = new Map<string, number>();
  private readonly sources = new Map<string, number>();
  private readonly days = new Map<string, number>();
  // The day of the last event and its bounds: most events fall on the same day as the one before.
  private dayStart = 0;
  private dayEnd = -1;
  private dayKey = '';

  constructor(private readonly utc: boolean) {}

  add(hit: Hit): void {
    const e = hit.event;
    this.addParts(hit.time, e.event_type, e.user, e.source);
  }

  /** Counts one event from its parts (a user or source that is not a non-empty string counts as NONE). */
  addParts(time: number, type: string, user: unknown, source: unknown): void {
    this.total++;
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    bump(this.types, type);
    bump(this.users, typeof user === 'string' && user ? user : NONE);
    bump(this.sources, typeof source === 'string' && source ? source : NONE);
    if (time < this.dayStart || time >= this.dayEnd) this.setDay(time);
    bump(this.days, this.dayKey);
  }

  part(): SummaryPart {
    return {
      total: this.total,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      types: [...this.types],
      users: [...this.users],
      sources: [...this.sources],
      days: [...this.days],
    };
  }

  /** Adds what another summariser counted (e.g. in a worker, over another part of the log). */
  merge(part: SummaryPart): void {
    this.total += part.total;
    if (part.firstTime < this.firstTime) this.firstTime = part.firstTime;
    if (part.lastTime > this.lastTime) this.lastTime = part.lastTime;
    for (const [k, n] of part.types) bump(this.types, k, n);
    for (const [k, n] of part.users) bump(this.users, k, n);
    for (const [k, n] of part.sources) bump(this.sources, k, n);
    for (const [k, n] of part.days) bump(this.days, k, n);
  }

  get count(): number {
    return this.total;
  }

  private setDay(time: number): void {
    const d = new Date(time);
    if (this.utc) {
      this.dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      this.dayEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      this.dayKey = new Date(this.dayStart).toISOString().slice(0, 10);
    } else {
      this.dayStart = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
      this.dayEnd = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
      this.dayKey = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    }
  }

  result(): Summary {
    return {
      total: this.total,
      first: this.total ? new Date(this.firstTime).toISOString() : null,
      last: this.total ? new Date(this.lastTime).toISOString() : null,
      by_type: byCount(this.types),
      by_user: byCount(this.users),
      by_source: byCount(this.sources),
      by_day: Object.fromEntries([...this.days.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))),
    };
  }
}

/** The sink of --count: only the number of events. */
export class Counter {
  private total = 0;

  addParts(): void {
    this.total++;
  }

  part(): SummaryPart {
    return {
      total: this.total,
      firstTime: Number.POSITIVE_INFINITY,
      lastTime: Number.NEGATIVE_INFINITY,
      types: [],
      users: [],
      sources: [],
      days: [],
    };
  }

  merge(part: SummaryPart): void {
    this.total += part.total;
  }

  get count(): number {
    return this.total;
  }
}

function bump(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function byCount(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

/** The summary as text sections: every key, counts right-aligned. */
export function summaryLines(s: Summary, utc: boolean): string[] {
  const lines = [`Total events: ${s.total}`];
  if (s.first && s.last) lines.push(`From ${s.first} to ${s.last}`);
  const section = (title: string, counts: Record<string, number>) => {
    lines.push('', title);
    const entries = Object.entries(counts);
    const w = Math.max(1, ...entries.map(([, n]) => String(n).length));
    for (const [k, n] of entries) lines.push(`  ${String(n).padStart(w)}  ${JSON.stringify(k).slice(1, -1)}`);
  };
  section('By type:', s.by_type);
  section('By user:', s.by_user);
  section('By source:', s.by_source);
  section(utc ? 'By day (UTC):' : 'By day (local time):', s.by_day);
  return lines;
}
