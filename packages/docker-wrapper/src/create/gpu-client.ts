import type { Ajv as AjvType } from 'ajv';
import { Denial } from '../deny.js';

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

export interface GpuRef {
  uuid: string;
  slot?: string;
  weight?: number;
}

export type AllocateResult =
  | { status: 'allocated'; reservation: string; gpus: GpuRef[] }
  | { status: 'rejected'; reason: string; retryable?: boolean; message?: string }
  | { status: 'error'; message?: string };

export interface StatusResult {
  status: string;
  reason?: string;
  message?: string;
}

let ajv: AjvType | undefined;
const validators = new Map<object, ReturnType<AjvType['compile']>>();
// ajv and execa load only when a GPU command runs: most docker commands need neither.
async function validate<T>(schema: object, data: unknown): Promise<T> {
  if (!ajv) {
    // ajv is CommonJS: Node's import gives its named export, a bundle only the module object as default.
    const mod = (await import('ajv')) as unknown as { Ajv?: typeof AjvType; default: typeof AjvType | { Ajv: typeof AjvType } };
    const Ctor = mod.Ajv ?? ('Ajv' in mod.default ? mod.default.Ajv : mod.default);
    ajv = new Ctor({ allErrors: false, strict: false });
  }
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  if (!v(data)) throw new GpuToolError(`ds01-gpu gave an answer the wrapper does not understand: ${ajv.errorsText(v.errors)}`);
  return data as T;
}

/**
 * The allocator's answer when it did not allocate: a Denial to stop with at
 * once, or null for NO_GPU_AVAILABLE (waiting may help).
 */
export function refusalOf(r: Exclude<AllocateResult, { status: 'allocated' }>): Denial | null {
  if (r.status === 'error')
    return new Denial(
      'gpu-allocator',
      `ds01-gpu failed: ${r.message ?? 'unknown error'}`,
      'Try again; if it persists, tell an administrator.',
    );
  if (r.reason === 'NO_GPU_AVAILABLE') return null;
  return new Denial(
    `gpu:${r.reason}`,
    r.message ?? r.reason,
    'See your GPUs with `docker ps`; stop one you no longer need with `docker stop NAME`.',
  );
}

export class GpuToolError extends Error {
  override name = 'GpuToolError';
}

/** How to run ds01-gpu: DS01_GPU_BIN or ds01-gpu on PATH; a .js/.cjs file through node; through `sudo -n` when not root. */
export function gpuCommand(env: NodeJS.ProcessEnv): { file: string; prefix: string[] } {
  const bin = env.DS01_GPU_BIN?.trim() || 'ds01-gpu';
  const base = /\.[cm]?js$/.test(bin) ? { file: process.execPath, prefix: [bin] } : { file: bin, prefix: [] as string[] };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot || env.DS01_GPU_NO_SUDO === '1') return base;
  return { file: 'sudo', prefix: ['-n', base.file, ...base.prefix] };
}

async function callGpu(env: NodeJS.ProcessEnv, args: string[]): Promise<{ exitCode: number; json: unknown }> {
  const { file, prefix } = gpuCommand(env);
  const { execa } = await import('execa');
  const r = await execa(file, [...prefix, ...args, '--json'], { env, extendEnv: false, reject: false, stdin: 'ignore', stderr: 'pipe' });
  if (r.failed && r.exitCode === undefined) throw new GpuToolError(`cannot run ds01-gpu (${file}): ${r.shortMessage}`);
  let json: unknown;
  try {
    json = JSON.parse(String(r.stdout));
  } catch {
    const err = String(r.stderr).trim().split('\n').pop() ?? '';
    throw new GpuToolError(`ds01-gpu ${args[0]} exited ${r.exitCode} without JSON${err ? `: ${err}` : ''}`);
  }
  return { exitCode: r.exitCode ?? 3, json };
}

export async function allocateGpus(env: NodeJS.ProcessEnv, user: string, container: string, count: number): Promise<AllocateResult> {
  const { json } = await callGpu(env, ['allocate', '--user', user, '--container', container, '--count', String(count)]);
  return validate<AllocateResult>(allocateSchema, json);
}

export async function bindReservation(env: NodeJS.ProcessEnv, reservation: string, containerId: string): Promise<StatusResult> {
  const { json } = await callGpu(env, ['bind', '--reservation', reservation, '--container-id', containerId]);
  return validate<StatusResult>(statusOnly, json);
}

/**
 * Binds the reservation without waiting for the answer: the user's command
 * ends when the real client does, not one allocator start-up later. Nothing
 * is lost if this bind fails or never runs: every ds01-gpu command reconciles
 * with Docker first and binds a pending reservation to the container of its
 * name and owner.
 */
export async function bindInBackground(env: NodeJS.ProcessEnv, reservation: string, containerId: string): Promise<void> {
  const { file, prefix } = gpuCommand(env);
  const { execa } = await import('execa');
  const child = execa(file, [...prefix, 'bind', '--reservation', reservation, '--container-id', containerId, '--json'], {
    env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    stdio: 'ignore',
    reject: false,
  });
  child.unref();
  child.catch(() => {});
}

export async function releaseGpus(env: NodeJS.ProcessEnv, container: string, reason: string): Promise<StatusResult> {
  const { json } = await callGpu(env, ['release', '--container', container, '--reason', reason]);
  return validate<StatusResult>(statusOnly, json);
}

export async function startGpuContainer(env: NodeJS.ProcessEnv, containerId: string): Promise<StatusResult & { managed?: boolean }> {
  const { json } = await callGpu(env, ['start', '--container-id', containerId]);
  return validate<StatusResult>(statusOnly, json);
}
