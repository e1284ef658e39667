import { passesNeedles } from '../build-filter.js';

const NEWLINE = 0x0a;

/**
 * The [start, end) spans of the lines in buf that contain a needle of every
 * group. With needles, it jumps from one occurrence of the most selective
 * group to the next (a byte search), so lines that cannot match are never
 * split out, let alone decoded.
 */
export function* lineSpans(buf: Buffer, needles: Buffer[][]): Generator<[number, number]> {
  const end = buf.length;
  if (needles.length === 0) {
    let s = 0;
    while (s < end) {
      let nl = buf.indexOf(NEWLINE, s);
      if (nl < 0) nl = end;
      if (nl > s) yield [s, nl];
      s = nl + 1;
    }
    return;
  }
  const driverIndex = pickDriver(needles);
  const driver = needles[driverIndex] as Buffer[];
  const next = driver.map((n) => buf.indexOf(n, 0));
  let pos = 0;
  for (;;) {
    let hit = -1;
    for (let i = 0; i < driver.length; i++) {
      let at = next[i] as number;
      if (at >= 0 && at < pos) {
        at = buf.indexOf(driver[i] as Buffer, pos);
        next[i] = at;
      }
      if (at >= 0 && (hit < 0 || at < hit)) hit = at;
    }
    if (hit < 0) return;
    const ls = hit === 0 ? 0 : buf.lastIndexOf(NEWLINE, hit - 1) + 1;
    let le = buf.indexOf(NEWLINE, hit);
    if (le < 0) le = end;
    if (passesNeedles(buf, ls, le, needles, driverIndex)) yield [ls, le];
    pos = le + 1;
  }
}

/** The group with the fewest alternatives (and longest needles): fewest false hits to check. */
function pickDriver(needles: Buffer[][]): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  needles.forEach((group, i) => {
    const shortest = Math.min(...group.map((n) => n.length));
    const score = shortest - group.length * 8;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}
