import ms from 'ms';

export interface TimeContext {
  /** Reference instant for relative times and keywords (epoch ms). */
  now: number;
  /** Read zone-less times and keywords in UTC instead of the local zone. */
  utc: boolean;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const AGO = /^(.+?)\s+ago$/i;

/** Thrown for a time the user typed that cannot be read; the CLI turns it into a usage error. */
export class TimeSpecError extends Error {}

/**
 * Reads a --since/--until value into an instant (epoch ms). Accepts ISO 8601
 * with or without a zone (zone-less means local time, or UTC with `utc`),
 * relative spans back from now (`30m`, `2h`, `7d`, `-1h`, `1 hour ago`), and
 * `now`, `today`, `yesterday`, `tomorrow` (midnights).
 */
export function parseTimeSpec(input: string, ctx: TimeContext): number {
  const text = input.trim();
  const lower = text.toLowerCase();
  if (lower === 'now') return ctx.now;
  if (lower === 'today') return midnight(ctx, 0);
  if (lower === 'yesterday') return midnight(ctx, -1);
  if (lower === 'tomorrow') return midnight(ctx, 1);
  const iso = ISO.exec(text);
  if (iso) return fromIso(iso, ctx, input);
  const span = relativeSpan(text);
  if (span !== undefined) return ctx.now - span;
  throw new TimeSpecError(
    `cannot read "${input}" as a time (use ISO 8601 like 2026-01-30T14:30, a span like 30m, 2h, 7d, or now/today/yesterday)`,
  );
}

/** Milliseconds back from now that a relative value means, or undefined if it is not one. */
function relativeSpan(text: string): number | undefined {
  const ago = AGO.exec(text);
  const body = (ago ? ago[1] : text)?.trim() ?? '';
  // A bare number is ambiguous (seconds? an epoch?): refuse rather than guess.
  if (!/[a-z]/i.test(body)) return undefined;
  const unsigned = body.startsWith('-') ? body.slice(1).trim() : body;
  if (!/^\d/.test(unsigned)) return undefined;
  let value: number | undefined;
  try {
    value = ms(unsigned as ms.StringValue);
  } catch {
    value = undefined;
  }
  if (value === undefined || !Number.isFinite(value) || value < 0) return undefined;
  return value;
}

function midnight(ctx: TimeContext, dayOffset: number): number {
  const d = new Date(ctx.now);
  if (ctx.utc) return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + dayOffset);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + dayOffset).getTime();
}

function fromIso(m: RegExpExecArray, ctx: TimeContext, input: string): number {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const zone = m[8];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new TimeSpecError(`"${input}" is not a valid date and time`);
  }
  let t: number;
  if (zone) {
    t = Date.UTC(year, month - 1, day, hour, minute, second, millis) - zoneOffsetMs(zone);
  } else if (ctx.utc) {
    t = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  } else {
    t = new Date(year, month - 1, day, hour, minute, second, millis).getTime();
  }
  // Date rolls 2026-02-31 over to March; refuse it instead.
  const check = new Date(zone ? t + zoneOffsetMs(zone) : t);
  const checkDay = zone || ctx.utc ? check.getUTCDate() : check.getDate();
  if (checkDay !== day) throw new TimeSpecError(`"${input}" is not a valid date`);
  return t;
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}
