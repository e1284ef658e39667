import type { Ds01Event } from '@ds01/events-core';
import { detailValue, valueText } from '../build-filter.js';

/** Field names accepted by --output, besides `details.KEY`. */
export const FIELD_NAMES = [
  'time',
  'timestamp',
  'type',
  'event_type',
  'user',
  'container',
  'source',
  'details',
  'id',
  'host',
  'pid',
  'actor',
  'schema_version',
] as const;

export const DEFAULT_COLUMNS = ['time', 'type', 'user', 'container', 'source', 'details'];

export function isKnownField(name: string): boolean {
  return (FIELD_NAMES as readonly string[]).includes(name) || (name.startsWith('details.') && name.length > 8);
}

export function headerOf(field: string, utc: boolean): string {
  if (field === 'time') return utc ? 'TIME (UTC)' : 'TIME';
  if (field.startsWith('details.')) return field.slice(8).toUpperCase();
  return field.toUpperCase();
}

/** The raw value of a field, for --json --output. */
export function rawField(event: Ds01Event, field: string): unknown {
  switch (field) {
    case 'time':
    case 'timestamp':
      return event.timestamp;
    case 'type':
    case 'event_type':
      return event.event_type;
    case 'container':
      return detailValue(event.details, 'container') ?? null;
    case 'details':
      return event.details ?? null;
    case 'actor':
      return event.actor ?? null;
    default:
      if (field.startsWith('details.')) return detailValue(event.details, field.slice(8)) ?? null;
      return (event as unknown as Record<string, unknown>)[field] ?? null;
  }
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` in the local zone, or UTC with a Z. */
export function formatTime(ms: number, utc: boolean): string {
  const d = new Date(ms);
  if (utc) {
    return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}Z`;
  }
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const CONTROL = /[\x00-\x1f\x7f]/g;

/** One line, whatever the value holds: control characters become visible escapes. */
export function cellText(text: string): string {
  return text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
}

const MAX_VALUE = 60;

function shortValue(v: unknown): string {
  let text = valueText(v);
  if (typeof v === 'string' && (text === '' || /[\s"=]/.test(text))) text = JSON.stringify(text);
  text = cellText(text);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Details as `key=value` pairs; `container` has its own column. */
export function renderDetails(event: Ds01Event, skipContainer: boolean): string {
  const d = event.details;
  if (!d || typeof d !== 'object') return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (skipContainer && k === 'container') continue;
    parts.push(`${cellText(k)}=${shortValue(v)}`);
  }
  if (event.truncated) parts.push(`truncated=${event.truncated.fields.join(',')}`);
  return parts.join(' ');
}

/** The text of a field in a table cell. */
export function cellField(event: Ds01Event, time: number, field: string, utc: boolean, columns: string[]): string {
  switch (field) {
    case 'time':
      return formatTime(time, utc);
    case 'details':
      return renderDetails(event, columns.includes('container'));
    case 'actor': {
      const a = event.actor;
      if (!a) return '';
      const who = a.user ?? String(a.uid);
      return cellText(a.as_user ? `${who} as ${a.as_user}` : who);
    }
    default: {
      const v = rawField(event, field);
      if (v === null || v === undefined) return '';
      return typeof v === 'string' ? cellText(v) : shortValue(v);
    }
  }
}
