/**
 * Turns any value into something JSON can hold, without throwing:
 * NaN/Infinity become the strings "NaN"/"Infinity"/"-Infinity" (JSON has no
 * such numbers and strict parsers reject the bare tokens), bigint becomes its
 * decimal string, a cycle becomes "[Circular]", errors become {name, message},
 * functions and symbols are dropped as JSON.stringify drops them.
 * Types are otherwise kept: a string that looks like a number stays a string.
 */
const MAX_DEPTH = 32;

export function toJsonSafe(value: unknown): unknown {
  if (isPlainFlat(value)) return value;
  return convert(value, new Set<object>(), 0);
}

/**
 * The common case, a flat object of strings, finite numbers, booleans and
 * nulls, is already valid JSON: it is used as it is instead of copied.
 */
function isPlainFlat(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    const t = typeof v;
    if (t === 'string' || t === 'boolean' || v === null) continue;
    if (t === 'number' && Number.isFinite(v)) continue;
    return false;
  }
  return true;
}

function convert(value: unknown, ancestors: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (ancestors.has(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof Error) return { name: obj.name, message: obj.message };
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    try {
      return convert((obj as { toJSON: () => unknown }).toJSON(), ancestors, depth + 1);
    } catch {
      return '[Unserialisable]';
    }
  }
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      return obj.map((item) => {
        const v = convert(item, ancestors, depth + 1);
        return v === undefined ? null : v;
      });
    }
    if (obj instanceof Map) return convert(Object.fromEntries(obj), ancestors, depth + 1);
    if (obj instanceof Set) return convert([...obj], ancestors, depth + 1);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      let item: unknown;
      try {
        item = (obj as Record<string, unknown>)[key];
      } catch {
        item = '[Unreadable]';
      }
      const v = convert(item, ancestors, depth + 1);
      if (v !== undefined) out[key] = v;
    }
    return out;
  } finally {
    ancestors.delete(obj);
  }
}
