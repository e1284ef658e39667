/** The v2 event envelope: additive over v1 so v1 readers keep working. */
export const SCHEMA_VERSION = '2';
export const MAX_LINE_BYTES = 4000;
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';
export const EVENT_TYPE_MAX_LENGTH = 128;

export interface Actor {
  uid: number;
  user: string | null;
  /** Set when root acts as another user through DS01_AS_USER (tests, demo). */
  as_user?: string;
}

export interface Truncation {
  original_bytes: number;
  /** Dotted paths of the fields that were shortened or replaced. */
  fields: string[];
}

export interface Ds01Event<D = Record<string, unknown>> {
  timestamp: string;
  event_type: string;
  schema_version: string;
  user?: string;
  source?: string;
  details?: D;
  id?: string;
  host?: string;
  pid?: number;
  actor?: Actor;
  truncated?: Truncation;
}

/** JSON Schema (2020-12) of a v2 envelope as written. Readers accept more (see read/normalize). */
export const envelopeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://ds01.dev/schemas/event-envelope-v2.json',
  title: 'ds01 event (schema_version 2)',
  type: 'object',
  properties: {
    timestamp: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
      description: 'UTC, millisecond precision, always this shape.',
    },
    event_type: { type: 'string', pattern: EVENT_TYPE_PATTERN, maxLength: EVENT_TYPE_MAX_LENGTH },
    schema_version: { const: SCHEMA_VERSION },
    user: { type: 'string', minLength: 1, description: 'The subject: whom the event is about.' },
    source: { type: 'string', minLength: 1, description: 'The component that wrote it.' },
    details: { type: 'object' },
    id: {
      type: 'string',
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
      description: 'UUIDv7: unique and time-sortable.',
    },
    host: { type: 'string' },
    pid: { type: 'integer', minimum: 1 },
    actor: {
      type: 'object',
      properties: {
        uid: { type: 'integer', minimum: 0 },
        user: { type: ['string', 'null'] },
        as_user: { type: 'string' },
      },
      required: ['uid', 'user'],
      additionalProperties: false,
    },
    truncated: {
      type: 'object',
      properties: {
        original_bytes: { type: 'integer' },
        fields: { type: 'array', items: { type: 'string' } },
      },
      required: ['original_bytes', 'fields'],
      additionalProperties: false,
    },
  },
  required: ['timestamp', 'event_type', 'schema_version', 'id', 'host', 'pid', 'actor'],
  additionalProperties: false,
} as const;
