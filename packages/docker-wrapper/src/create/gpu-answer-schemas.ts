// The allocator's JSON answers as the wrapper reads them: one source for the
// validators generated at build time (scripts/generate-validators.mjs) and
// for the run-time fallback in gpu-client.ts.

/** What the wrapper reads from `ds01-gpu ... --json` (the allocator's contract; extra fields allowed). */
const gpuList = {
  type: 'array',
  items: {
    type: 'object',
    required: ['uuid'],
    properties: { uuid: { type: 'string', minLength: 1 }, slot: { type: 'string' }, weight: { type: 'number' } },
  },
} as const;

const allocateSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['status', 'reservation', 'gpus'],
      properties: { status: { const: 'allocated' }, reservation: { type: 'string', minLength: 1 }, gpus: { ...gpuList, minItems: 1 } },
    },
    {
      type: 'object',
      required: ['status', 'reason'],
      properties: {
        status: { const: 'rejected' },
        reason: { type: 'string' },
        retryable: { type: 'boolean' },
        message: { type: 'string' },
      },
    },
    { type: 'object', required: ['status'], properties: { status: { const: 'error' }, message: { type: 'string' } } },
  ],
} as const;

const statusOnly = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } },
} as const;

export const gpuAnswerSchemas = { allocate: allocateSchema, status: statusOnly } as const;
export type GpuAnswerKind = keyof typeof gpuAnswerSchemas;
