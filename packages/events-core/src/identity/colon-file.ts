// The name service's colon-separated files (/etc/passwd, /etc/group), which
// the wrapper reads on every docker command, scanned in place: a line is split
// only when it is the one wanted, so a lookup allocates little more than the
// file's text. Splitting every line cost the wrapper ~30 kB of young heap at
// each start, enough to bring on a garbage collection before its answer.

/** Calls `visit(start, end)` for each entry line (not blank, not a comment) until it returns true. */
export function eachLine(text: string, visit: (start: number, end: number) => boolean | undefined): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start && text[start] !== '#' && visit(start, end) === true) return;
    start = end + 1;
  }
}

/** Where field `n` of the line [start, end) begins, or -1 when the line has fewer fields. */
function fieldStart(text: string, start: number, end: number, n: number): number {
  let at = start;
  for (let i = 0; i < n; i++) {
    const colon = text.indexOf(':', at);
    if (colon < 0 || colon >= end) return -1;
    at = colon + 1;
  }
  return at;
}

function fieldEnd(text: string, at: number, end: number): number {
  const colon = text.indexOf(':', at);
  return colon < 0 || colon > end ? end : colon;
}

export function fieldIs(text: string, start: number, end: number, n: number, value: string): boolean {
  const at = fieldStart(text, start, end, n);
  return at >= 0 && fieldEnd(text, at, end) - at === value.length && text.startsWith(value, at);
}

export function field(text: string, start: number, end: number, n: number): string {
  const at = fieldStart(text, start, end, n);
  return at < 0 ? '' : text.slice(at, fieldEnd(text, at, end));
}

/** Whether a group line's member list (field 3, comma-separated) names `name`. */
export function listsMember(text: string, start: number, end: number, name: string): boolean {
  const at = fieldStart(text, start, end, 3);
  if (at < 0) return false;
  const stop = fieldEnd(text, at, end);
  for (let i = at; i < stop; ) {
    const comma = text.indexOf(',', i);
    const itemEnd = comma < 0 || comma > stop ? stop : comma;
    if (itemEnd - i === name.length && text.startsWith(name, i)) return true;
    i = itemEnd + 1;
  }
  return false;
}

/** The first line whose field `n` is `value`, split into fields. */
export function findLine(text: string, n: number, value: string): string[] | undefined {
  let found: string[] | undefined;
  eachLine(text, (start, end) => {
    if (!fieldIs(text, start, end, n, value)) return false;
    found = text.slice(start, end).split(':');
    return true;
  });
  return found;
}
