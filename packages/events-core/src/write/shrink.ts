import { type Ds01Event, MAX_LINE_BYTES } from '../envelope.js';

const CUT_MARK = '…[cut]';
const MIN_KEEP = 16;

/**
 * Fits an event into MAX_LINE_BYTES by shortening fields one by one, longest
 * strings first, instead of wiping all details as the original did. Every cut
 * field is listed in `truncated.fields`. Envelope fields are never dropped.
 * Returns the serialised line (without newline) or null if it cannot fit.
 */
export function serialiseWithinLimit(event: Ds01Event): string | null {
  let line = JSON.stringify(event);
  // A UTF-16 unit never takes more than 3 bytes in UTF-8: short lines need no count.
  if (line.length * 3 <= MAX_LINE_BYTES) return line;
  let bytes = Buffer.byteLength(line);
  if (bytes <= MAX_LINE_BYTES) return line;

  const originalBytes = bytes;
  // Details may be the caller's own object (flat ones are not copied): cut a copy.
  if (event.details) event.details = JSON.parse(line).details;
  const cut: string[] = [];
  event.truncated = { original_bytes: originalBytes, fields: cut };

  // Candidates: every string leaf in details, then user and source.
  for (let round = 0; round < 10_000 && bytes > MAX_LINE_BYTES; round++) {
    const leaf = longestString(event);
    if (!leaf || leaf.value.length <= MIN_KEEP + CUT_MARK.length) break;
    const excess = bytes - MAX_LINE_BYTES;
    // Shorten by the excess (plus room for the marks), never below MIN_KEEP chars.
    const keep = Math.max(MIN_KEEP, leaf.value.length - excess - CUT_MARK.length - 64);
    leaf.set(leaf.value.slice(0, keep) + CUT_MARK);
    if (!cut.includes(leaf.path)) cut.push(leaf.path);
    line = JSON.stringify(event);
    bytes = Buffer.byteLength(line);
  }

  // Still too big (e.g. huge arrays of numbers): replace the largest detail values.
  while (bytes > MAX_LINE_BYTES && event.details && Object.keys(event.details).length > 0) {
    const details = event.details as Record<string, unknown>;
    let biggest = '';
    let biggestSize = -1;
    for (const [k, v] of Object.entries(details)) {
      if (v === CUT_MARK) continue;
      const size = JSON.stringify(v)?.length ?? 0;
      if (size > biggestSize) {
        biggest = k;
        biggestSize = size;
      }
    }
    if (biggestSize < 0) break;
    details[biggest] = CUT_MARK;
    const path = `details.${biggest}`;
    if (!cut.includes(path)) cut.push(path);
    line = JSON.stringify(event);
    bytes = Buffer.byteLength(line);
  }
  return bytes <= MAX_LINE_BYTES ? line : null;
}

interface Leaf {
  path: string;
  value: string;
  set: (v: string) => void;
}

function longestString(event: Ds01Event): Leaf | undefined {
  let best: Leaf | undefined;
  const consider = (leaf: Leaf) => {
    if (leaf.value.endsWith(CUT_MARK) && leaf.value.length <= MIN_KEEP + CUT_MARK.length) return;
    if (!best || leaf.value.length > best.value.length) best = leaf;
  };
  const walk = (node: unknown, path: string, set: (v: string) => void) => {
    if (typeof node === 'string') consider({ path, value: node, set });
    else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        walk(node[i], `${path}.${i}`, (s) => {
          node[i] = s;
        });
      }
    } else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o))
        walk(o[k], `${path}.${k}`, (s) => {
          o[k] = s;
        });
    }
  };
  if (event.details) walk(event.details, 'details', () => {});
  if (event.user)
    consider({
      path: 'user',
      value: event.user,
      set: (s) => {
        event.user = s;
      },
    });
  if (event.source)
    consider({
      path: 'source',
      value: event.source,
      set: (s) => {
        event.source = s;
      },
    });
  return best;
}
