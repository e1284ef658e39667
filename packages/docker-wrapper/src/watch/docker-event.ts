/** One Docker Engine event, as the watcher needs it. */
export interface DockerEvent {
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
  /** Nanoseconds since the epoch. Kept as bigint: JSON numbers lose the last digits. */
  timeNano: bigint;
  /** Identifies the event within its nanosecond (Docker events carry no id of their own). */
  key: string;
}

const TIME_NANO = /"timeNano"\s*:\s*(\d+)/;

/**
 * Parses one line of the event stream; null for anything that is not a
 * Docker event object. `timeNano` is read from the raw text because
 * JSON.parse rounds a 19-digit number to a double.
 */
export function parseDockerEvent(line: string): DockerEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const actor = (r.Actor && typeof r.Actor === 'object' ? r.Actor : {}) as Record<string, unknown>;
  const type = typeof r.Type === 'string' ? r.Type : '';
  const action = typeof r.Action === 'string' ? r.Action : typeof r.status === 'string' ? r.status : '';
  const id = typeof actor.ID === 'string' ? actor.ID : typeof r.id === 'string' ? r.id : '';
  if (!type || !action) return null;
  let timeNano: bigint;
  const m = TIME_NANO.exec(line);
  if (m?.[1]) timeNano = BigInt(m[1]);
  else if (typeof r.time === 'number' && Number.isFinite(r.time)) timeNano = BigInt(Math.trunc(r.time)) * 1_000_000_000n;
  else return null;
  const attributes: Record<string, string> = {};
  if (actor.Attributes && typeof actor.Attributes === 'object') {
    for (const [k, v] of Object.entries(actor.Attributes as Record<string, unknown>)) {
      if (typeof v === 'string') attributes[k] = v;
    }
  }
  return { type, action, id, attributes, timeNano, key: eventKey(timeNano, action, id) };
}

/**
 * `<timeNano>:<action>:<id prefix>`: one Docker event (a container cannot do
 * the same thing twice in one nanosecond). The time comes first so a key
 * tells when it happened.
 */
export function eventKey(timeNano: bigint | string, action: string, id: string): string {
  return `${timeNano}:${action}:${id.slice(0, 16)}`;
}

export function keyTime(key: string): bigint | null {
  const m = /^(\d+):/.exec(key);
  return m?.[1] ? BigInt(m[1]) : null;
}

/** Docker's `since`/`until` query form: `<seconds>.<nanoseconds>`. */
export function dockerTimeParam(timeNano: bigint): string {
  const seconds = timeNano / 1_000_000_000n;
  const nanos = timeNano % 1_000_000_000n;
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}

/** UTC ISO time (millisecond precision) of a nanosecond instant. */
export function isoFromNano(timeNano: bigint): string {
  return new Date(Number(timeNano / 1_000_000n)).toISOString();
}

export function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
