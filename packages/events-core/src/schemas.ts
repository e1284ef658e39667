import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { envelopeSchema } from './envelope.js';
import { type EventType, eventCatalogue, isCatalogued } from './event-types/index.js';

/**
 * JSON Schemas for the envelope and each catalogued event's details, compiled
 * once per process with ajv. Other tools import these to validate what they read.
 */
export function detailsSchemaOf(type: EventType): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...eventCatalogue[type].details };
}

let ajv: Ajv2020 | undefined;
let envelopeValidator: ValidateFunction | undefined;
const detailValidators = new Map<string, ValidateFunction>();

// ajv is loaded on first validation, not at import: every bin imports this
// package to log events, and most never validate one (the wrapper's hot path).
function getAjv(): Ajv2020 {
  if (!ajv) {
    const { Ajv2020: AjvClass } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    ajv = new AjvClass({ allErrors: true, strict: false });
  }
  return ajv;
}

export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

function formatErrors(errors: ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).map((e) => `${prefix}${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

/** Validates one written (v2) event: the envelope, then the details of a catalogued type. */
export function validateEvent(event: unknown): ValidationResult {
  envelopeValidator ??= getAjv().compile(envelopeSchema);
  const errors: string[] = [];
  if (!envelopeValidator(event)) errors.push(...formatErrors(envelopeValidator.errors, 'event'));
  const type = (event as { event_type?: unknown })?.event_type;
  if (typeof type === 'string' && isCatalogued(type)) {
    const d = (event as { details?: unknown }).details ?? {};
    const r = validateDetails(type, d);
    errors.push(...r.errors);
  }
  return { valid: errors.length === 0, errors };
}

export function validateDetails(type: EventType, details: unknown): ValidationResult {
  let v = detailValidators.get(type);
  if (!v) {
    v = getAjv().compile(detailsSchemaOf(type));
    detailValidators.set(type, v);
  }
  const ok = v(details);
  return { valid: ok, errors: ok ? [] : formatErrors(v.errors, 'details') };
}

export { envelopeSchema };
