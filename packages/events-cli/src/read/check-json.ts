/**
 * A strict JSON checker over raw bytes, for the rest of a record whose
 * envelope was read by hand: it accepts exactly what JSON.parse accepts
 * after the line is decoded as UTF-8, without building anything. One flat
 * loop with an explicit stack, as function calls per value would cost more
 * than the checking.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 64;

// Bytes that end a run of plain string content: controls, the quote, the backslash.
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

const HEX = new Uint8Array(256);
for (const c of Buffer.from('0123456789abcdefABCDEF')) HEX[c] = 1;
const ESCAPE = new Uint8Array(256);
for (const c of Buffer.from('"\\/bfnrt')) ESCAPE[c] = 1;

// Whitespace between tokens, less the newline: a newline ends the line.
const SPACE = new Uint8Array(256);
SPACE[0x20] = 1;
SPACE[0x09] = 1;
SPACE[0x0d] = 1;

const OBJECT = 1;
const ARRAY = 2;
const stack = new Uint8Array(MAX_DEPTH + 1);

/**
 * Checks the members that follow the last member read by hand in a JSON
 * object at top level (`pos` is just after that member's value), up to and
 * including the object's closing brace. Returns the position after the
 * brace, or -1 when the bytes up to `limit` are not that. `refuseKey(buf,
 * start, end)` is asked about every key of this object (bytes without
 * quotes); a true answer makes the whole check fail. Bytes from 0x80 up are
 * accepted inside strings only: decoding turns an invalid sequence into
 * U+FFFD, which a string may hold, and never absorbs an ASCII byte into a
 * sequence.
 */
export function checkObjectRest(
  buf: Buffer,
  pos: number,
  limit: number,
  refuseKey: (buf: Buffer, start: number, end: number) => boolean,
): number {
  let depth = 1;
  stack[1] = OBJECT;
  // Each turn starts just after a value: a comma then the next value (with its key in an object), or a closing bracket.
  for (;;) {
    while (pos < limit && SPACE[buf[pos] as number] === 1) pos++;
    if (pos >= limit) return -1;
    let c = buf[pos] as number;
    const kind = stack[depth];
    if (c === 0x2c) {
      pos++;
      if (kind === OBJECT) {
        pos = afterKey(buf, pos, limit, depth === 1 ? refuseKey : null);
        if (pos < 0) return -1;
      }
    } else if ((c === 0x7d && kind === OBJECT) || (c === 0x5d && kind === ARRAY)) {
      pos++;
      if (--depth === 0) return pos;
      continue;
    } else return -1;
    // A value; an opening bracket goes on to its first value (or closes at once).
    for (;;) {
      while (pos < limit && SPACE[buf[pos] as number] === 1) pos++;
      if (pos >= limit) return -1;
      c = buf[pos] as number;
      if (c === QUOTE) {
        pos = stringEnd(buf, pos + 1, limit);
        if (pos < 0) return -1;
        pos++;
        break;
      }
      if (c === 0x7b || c === 0x5b) {
        if (depth >= MAX_DEPTH) return -1;
        pos++;
        while (pos < limit && SPACE[buf[pos] as number] === 1) pos++;
        if (c === 0x7b) {
          if (buf[pos] === 0x7d && pos < limit) {
            pos++;
            break;
          }
          stack[++depth] = OBJECT;
          pos = afterKey(buf, pos, limit, null);
          if (pos < 0) return -1;
        } else {
          if (buf[pos] === 0x5d && pos < limit) {
            pos++;
            break;
          }
          stack[++depth] = ARRAY;
        }
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) pos = numberEnd(buf, pos, limit);
      else if (c === 0x74) pos = word(buf, pos, limit, 0x72, 0x75, 0x65, -1);
      else if (c === 0x6e) pos = word(buf, pos, limit, 0x75, 0x6c, 0x6c, -1);
      else if (c === 0x66) pos = word(buf, pos, limit, 0x61, 0x6c, 0x73, 0x65);
      else return -1;
      if (pos < 0) return -1;
      break;
    }
  }
}

/** Reads `"key"` and `:` from `pos` (whitespace allowed around); the position after the colon, or -1. */
function afterKey(
  buf: Buffer,
  pos: number,
  limit: number,
  refuseKey: ((buf: Buffer, start: number, end: number) => boolean) | null,
): number {
  while (pos < limit && SPACE[buf[pos] as number] === 1) pos++;
  if (pos >= limit || buf[pos] !== QUOTE) return -1;
  const end = stringEnd(buf, pos + 1, limit);
  if (end < 0 || refuseKey?.(buf, pos + 1, end)) return -1;
  pos = end + 1;
  while (pos < limit && SPACE[buf[pos] as number] === 1) pos++;
  if (pos >= limit || buf[pos] !== 0x3a) return -1;
  return pos + 1;
}

/** The closing quote of a string whose content starts at `at`, or -1. */
function stringEnd(buf: Buffer, at: number, limit: number): number {
  let i = at;
  for (;;) {
    while (i < limit && STRING_STOP[buf[i] as number] === 0) i++;
    if (i >= limit) return -1;
    const c = buf[i];
    if (c === QUOTE) return i;
    if (c !== BACKSLASH || i + 1 >= limit) return -1;
    const e = buf[i + 1] as number;
    if (e === 0x75) {
      if (i + 5 >= limit) return -1;
      if (!(HEX[buf[i + 2] as number] && HEX[buf[i + 3] as number] && HEX[buf[i + 4] as number] && HEX[buf[i + 5] as number])) return -1;
      i += 6;
    } else if (ESCAPE[e] === 1) i += 2;
    else return -1;
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** The end of a number `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` starting at `pos`, or -1. */
function numberEnd(buf: Buffer, pos: number, limit: number): number {
  if (buf[pos] === 0x2d) pos++;
  if (pos >= limit) return -1;
  if (buf[pos] === 0x30) pos++;
  else if (isDigit(buf[pos])) while (pos < limit && isDigit(buf[pos])) pos++;
  else return -1;
  if (pos < limit && buf[pos] === 0x2e) {
    pos++;
    if (pos >= limit || !isDigit(buf[pos])) return -1;
    while (pos < limit && isDigit(buf[pos])) pos++;
  }
  if (pos < limit && (buf[pos] === 0x65 || buf[pos] === 0x45)) {
    pos++;
    if (pos < limit && (buf[pos] === 0x2b || buf[pos] === 0x2d)) pos++;
    if (pos >= limit || !isDigit(buf[pos])) return -1;
    while (pos < limit && isDigit(buf[pos])) pos++;
  }
  return pos;
}

/** The end of true/null/false given the bytes after their first letter (d = -1: a four-letter word), or -1. */
function word(buf: Buffer, pos: number, limit: number, a: number, b: number, c: number, d: number): number {
  const len = d < 0 ? 4 : 5;
  if (pos + len > limit) return -1;
  return buf[pos + 1] === a && buf[pos + 2] === b && buf[pos + 3] === c && (d < 0 || buf[pos + 4] === d) ? pos + len : -1;
}
