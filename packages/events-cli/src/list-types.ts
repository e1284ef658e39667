import { eventCatalogue } from '@ds01/events-core/catalogue';

export interface TypeField {
  name: string;
  type: string;
  required: boolean;
}

export interface TypeInfo {
  type: string;
  description: string;
  fields: TypeField[];
}

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** A short type name for a JSON Schema: `string`, `number|null`, `"a"|"b"`, `{uuid,slot}[]`. */
export function schemaTypeName(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(schemaTypeName).join('|');
  if (s.type === 'array') return `${s.items ? wrap(schemaTypeName(s.items)) : 'any'}[]`;
  if (s.type === 'object') return s.properties ? `{${Object.keys(s.properties).join(',')}}` : 'object';
  if (Array.isArray(s.type)) return s.type.join('|');
  return s.type ?? 'any';
}

const wrap = (t: string) => (t.includes('|') ? `(${t})` : t);

/** The catalogue, generated from events-core's schemas (the one source of truth). */
export function catalogueInfo(): TypeInfo[] {
  return Object.entries(eventCatalogue)
    .map(([type, spec]) => {
      const schema = spec.details as unknown as JsonSchema;
      const required = new Set(schema.required ?? []);
      const fields = Object.entries(schema.properties ?? {}).map(([name, s]) => ({
        name,
        type: schemaTypeName(s),
        required: required.has(name),
      }));
      return { type, description: spec.description, fields };
    })
    .sort((a, b) => (a.type < b.type ? -1 : 1));
}

/** Text rendering: one block per type, required fields first and unmarked, optional ones with `?`. */
export function catalogueLines(infos: TypeInfo[]): string[] {
  const lines: string[] = [];
  for (const info of infos) {
    lines.push(`${info.type}  ${info.description}`);
    const fields = [...info.fields].sort((a, b) => Number(b.required) - Number(a.required));
    for (const f of fields) lines.push(`    ${f.name}${f.required ? '' : '?'}: ${f.type}`);
  }
  return lines;
}
