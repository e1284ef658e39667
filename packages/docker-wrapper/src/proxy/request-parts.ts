import { Denial } from '../deny.js';

/** One request as the rules see it. */
export interface RequestInfo {
  method: string;
  url: string;
  /** Reads the whole request body (only the routes that need it call this); undefined on an upgraded connection. */
  readBody?: () => Promise<Buffer>;
}

export type Json = Record<string, unknown>;

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
