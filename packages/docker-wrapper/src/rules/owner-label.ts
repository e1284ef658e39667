import { LABEL_PREFIX, LABELS } from '@ds01/events-core/labels';
import { Denial } from '../deny.js';

/**
 * The labels a user gives a volume or an image, with ds01's owner label set:
 * a ds01.* label is refused (it would claim the object for someone else, or
 * mark it as ds01's), unless it says exactly what ds01 writes anyway,
 * `ds01.user=<owner>` (what the wrapper sends when it runs in front of the
 * proxy).
 */
export function withOwnerLabel(labels: Record<string, string>, owner: string, what: 'volume' | 'image'): Record<string, string> {
  checkNoDs01Labels(labels, owner, what);
  return { ...labels, [LABELS.user]: owner };
}

/** Refuses ds01.* labels other than `ds01.user=<owner>` (rule `ds01-label`, as for containers). */
export function checkNoDs01Labels(labels: Record<string, string>, owner: string, what: 'volume' | 'image'): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!k.startsWith(LABEL_PREFIX) || (k === LABELS.user && v === owner)) continue;
    throw new Denial('ds01-label', `the label ${k}=${v} is set by ds01 only`, `Remove it; ds01 labels your ${what} itself.`);
  }
}

/** `KEY=VALUE` (or a bare `KEY`, an empty value) as docker's --label reads it. */
export function labelsOf(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf('=');
    out[eq < 0 ? e : e.slice(0, eq)] = eq < 0 ? '' : e.slice(eq + 1);
  }
  return out;
}

/** A JSON object of labels from an API request (values as strings); a field that is not an object has none. */
export function labelsOfJson(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}
