import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

export interface Exemption {
  username: string;
  exemptFrom: string[];
  /** Epoch ms; null = permanent. */
  expires: number | null;
  reason: string;
}

export interface ExemptionList {
  file: string;
  entries: Exemption[];
  /** One line per entry that was skipped, saying why; the others still apply. */
  problems: string[];
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Reads an expiry given as a date or a date-time; without a zone it is UTC.
 * A date alone means the start of that day (UTC).
 */
export function parseExpiry(value: unknown): number | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  let iso = text;
  if (DATE_ONLY.test(text)) iso = `${text}T00:00:00Z`;
  else if (!HAS_ZONE.test(text)) iso = `${text.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Loads `lifecycle-exemptions.yaml` beside the config; a missing file means no exemptions. */
export function loadExemptions(configDir: string): ExemptionList {
  const file = path.join(configDir, 'lifecycle-exemptions.yaml');
  const list: ExemptionList = { file, entries: [], problems: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return list;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    list.problems.push(`${file}: YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
    return list;
  }
  const root = doc.toJS() as { exemptions?: unknown } | null;
  const items = root?.exemptions;
  if (items === undefined || items === null) return list;
  if (!Array.isArray(items)) {
    list.problems.push(`${file}: exemptions: must be a list`);
    return list;
  }
  for (const [i, item] of (items as Record<string, unknown>[]).entries()) {
    const where = `${file}: exemptions[${i}]`;
    if (!item || typeof item !== 'object') {
      list.problems.push(`${where}: not a mapping (skipped)`);
      continue;
    }
    if (typeof item.username !== 'string' || !item.username) {
      list.problems.push(`${where}: username missing (skipped)`);
      continue;
    }
    const from = Array.isArray(item.exempt_from)
      ? item.exempt_from.map(String)
      : typeof item.exempt_from === 'string'
        ? [item.exempt_from]
        : [];
    if (from.length === 0) {
      list.problems.push(`${where} (${item.username}): exempt_from missing (skipped)`);
      continue;
    }
    const expires = parseExpiry(item.expires_on);
    if (expires === undefined) {
      list.problems.push(`${where} (${item.username}): expires_on ${JSON.stringify(item.expires_on)} is not a date (skipped)`);
      continue;
    }
    list.entries.push({ username: item.username, exemptFrom: from, expires, reason: typeof item.reason === 'string' ? item.reason : '' });
  }
  return list;
}

export interface ExemptionDecision {
  exempt: boolean;
  reason?: string;
  expires?: number | null;
}

/** Whether `user` is exempt from `limitKey` (e.g. `idle_timeout_h`) at `now`. */
export function checkExemption(list: ExemptionList, user: string, limitKey: string, now = Date.now()): ExemptionDecision {
  for (const e of list.entries) {
    if (e.username !== user || !e.exemptFrom.includes(limitKey)) continue;
    if (e.expires !== null && now >= e.expires) continue;
    const until = e.expires === null ? 'permanent' : `until ${new Date(e.expires).toISOString()}`;
    return { exempt: true, reason: `${until}${e.reason ? `: ${e.reason}` : ''}`, expires: e.expires };
  }
  return { exempt: false };
}
