import { type TObject, type TOptional, type TProperties, type TSchema, Type } from '@sinclair/typebox';

// Reusable schema fragments for the catalogue. TypeBox gives plain JSON Schema
// objects (validated with ajv) and the matching TypeScript types, from one source.
export const str = Type.String();
export const strOrNull = Type.Union([Type.String(), Type.Null()]);
export const num = Type.Number();
export const numOrNull = Type.Union([Type.Number(), Type.Null()]);
export const int = Type.Integer();
export const bool = Type.Boolean();
export const strList = Type.Array(Type.String());
export const anyObject = Type.Record(Type.String(), Type.Unknown());
export const anyList = Type.Array(Type.Unknown());
export const oneOf = <const L extends readonly string[]>(...values: L) => Type.Union(values.map((v) => Type.Literal(v))) as TSchema;

/** One GPU or MIG slot as events report it: UUID first, human slot id second. */
export const gpuRef = Type.Object(
  { uuid: Type.String(), slot: Type.Optional(Type.String()), weight: Type.Optional(Type.Number()) },
  { additionalProperties: false },
);
export const gpuRefList = Type.Array(gpuRef);

export interface EventSpec {
  readonly description: string;
  readonly details: TObject;
}

type WithOptional<P extends TProperties, R extends keyof P> = {
  [K in keyof P]: K extends R ? P[K] : TOptional<P[K]>;
};

/** A details schema: the listed fields are required, the rest optional, unknown fields rejected. */
export function details<P extends TProperties, R extends keyof P & string = never>(
  properties: P,
  required: readonly R[] = [],
): TObject<WithOptional<P, R>> {
  const props: TProperties = {};
  for (const [key, schema] of Object.entries(properties)) {
    props[key] = (required as readonly string[]).includes(key) ? schema : Type.Optional(schema);
  }
  return Type.Object(props, { additionalProperties: false }) as TObject<WithOptional<P, R>>;
}
