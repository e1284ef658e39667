import picomatch from 'picomatch';

/**
 * Matches event types against dot-aware globs: `gpu` and `gpu.*` match
 * `gpu.allocate` (and `gpu.allocation.lock_timeout`) but not `gpus.x`;
 * `*.denied` and `maintenance.*_kill` work; a leading `!` excludes.
 * A pattern matches a type when it matches the type or one of its
 * dot-prefixes, so a category name alone selects the whole category.
 */
export function typeMatcher(patterns: string[]): (type: string) => boolean {
  const include: picomatch.Matcher[] = [];
  const exclude: picomatch.Matcher[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).split('.').join('/');
    const m = picomatch(pattern, { dot: true });
    (negated ? exclude : include).push(m);
  }
  const prefixMatch = (list: picomatch.Matcher[], type: string): boolean => {
    const parts = type.split('.');
    for (let k = 1; k <= parts.length; k++) {
      const prefix = parts.slice(0, k).join('/');
      if (list.some((m) => m(prefix))) return true;
    }
    return false;
  };
  // Logs hold few distinct types, so each answer is computed once.
  const cache = new Map<string, boolean>();
  return (type: string) => {
    let hit = cache.get(type);
    if (hit === undefined) {
      hit = (include.length === 0 || prefixMatch(include, type)) && !prefixMatch(exclude, type);
      cache.set(type, hit);
    }
    return hit;
  };
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** The longest literal run of a glob, for the raw-line prefilter; '' when it has none worth using. */
export function literalOf(pattern: string): string {
  if (pattern.startsWith('!')) return '';
  let best = '';
  for (const piece of pattern.split(GLOB_CHARS)) if (piece.length > best.length) best = piece;
  return best.replace(/\\/g, '');
}
