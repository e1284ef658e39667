import ms from 'ms';

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000 } as const;
const NO_LIMIT_WORDS = new Set(['never', 'none', 'unlimited', 'indefinite']);

/**
 * Reads a duration config value in the unit its key names. Numbers are taken
 * as they are; strings may carry a unit ("90m", "1.5h", "2d") and are converted.
 * Returns undefined for text that is no duration, so validation can report it
 * (the original silently turned "48h" into 0 and disabled the limit).
 */
export function durationInUnit(value: unknown, unit: 'h' | 'm' | 's'): number | null | undefined {
  if (value === null) return null;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (NO_LIMIT_WORDS.has(text)) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const millis = ms(text as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) return undefined;
  return millis / UNIT_MS[unit];
}

export function hoursToMs(hours: number): number {
  return hours * UNIT_MS.h;
}
export function minutesToMs(minutes: number): number {
  return minutes * UNIT_MS.m;
}
export function secondsToMs(seconds: number): number {
  return seconds * UNIT_MS.s;
}
