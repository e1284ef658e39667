import type http from 'node:http';
import { Denial } from '../deny.js';

/** One request as the rules see it. */
export interface RequestInfo {
  method: string;
  url: string;
  /** Reads the whole request body (only the routes that need it call this); undefined on an upgraded connection. */
  readBody?: () => Promise<Buffer>;
  /** The request's headers, as the engine will get them. */
  headers?: http.IncomingHttpHeaders;
}

export type Json = Record<string, unknown>;

/** A JSON object field, or an empty one when the field is missing or not an object. */
export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** A JSON object body (an empty body is `{}`); anything else is refused, as the rules cannot read it. */
export function parseJsonBody(buf: Buffer): Json {
  if (buf.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new Denial('bad-request', 'the request body is not JSON', 'Send a JSON body.');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new Denial('bad-request', 'the request body is not a JSON object', 'Send a JSON object.');
  return v as Json;
}

/** The same path with another query. */
export const withQuery = (url: string, query: URLSearchParams) => {
  const q = query.toString();
  return `${url.split('?')[0]}${q ? `?${q}` : ''}`;
};

export async function needBody(info: RequestInfo): Promise<Buffer> {
  if (!info.readBody) throw new Denial('hijack', 'this request cannot ask for a hijacked connection', 'Send it without Upgrade.');
  return info.readBody();
}

/** Content types whose body Go's net/http reads as parameters (ParseForm, ParseMultipartForm). */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);

/**
 * Whether the request carries a form body. The engine reads its parameters
 * from the query and such a body together, the body's first (`repo`, `tag`,
 * `t`, `filters`...), while the rules read the query: a form body could name
 * another tag, or drop the owner filter of a prune.
 */
export function sendsForm(headers: http.IncomingHttpHeaders | undefined): boolean {
  const type = String(headers?.['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (!FORM_TYPES.has(type)) return false;
  // No body at all (`curl -d ''` sends this type with Content-Length: 0) carries no parameters.
  return headers?.['transfer-encoding'] !== undefined || Number(headers?.['content-length'] ?? 0) !== 0;
}
