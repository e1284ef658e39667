import { gpuBinCommand } from '@ds01/events-core/paths';
import type { Ajv as AjvType, ErrorObject } from 'ajv';
import { Denial } from '../deny.js';
import { type GpuAnswerKind, gpuAnswerSchemas } from './gpu-answer-schemas.js';

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

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let validators: Record<GpuAnswerKind, Validate> | undefined;

/**
 * The validators for ds01-gpu's answers: generated at build time
 * (scripts/generate-validators.mjs; compiling the schemas at run time cost
 * some 40 ms of every GPU create), else compiled here with ajv (tests on src
 * before a build). By package name, so the bundled bin finds them too.
 */
function answerValidators(): Record<GpuAnswerKind, Validate> {
  if (validators) return validators;
  // node:module only here: loading it at start costs every command (with its ESM loader) ~0.4 ms.
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  try {
    validators = require('@ds01/docker-wrapper/generated/gpu-answer-validators') as Record<GpuAnswerKind, Validate>;
  } catch {
    // Required, not imported: the bundled bin always has the generated file and should not carry ajv.
    const { Ajv } = require('ajv') as { Ajv: typeof AjvType };
    const ajv = new Ajv({ allErrors: false, strict: false });
    validators = {
      allocate: ajv.compile(gpuAnswerSchemas.allocate),
      status: ajv.compile(gpuAnswerSchemas.status),
    };
  }
  return validators;
}

/** Loads the validators ahead of the answer (the wrapper has nothing else to do while the allocator works). */
export function loadAnswerValidators(): void {
  answerValidators();
}

// execa and the validators load only when a GPU command runs: most docker commands need neither.
export function validateAnswer<T>(kind: GpuAnswerKind, data: unknown): T {
  const v = answerValidators()[kind];
  if (!v(data)) {
    const why = (v.errors ?? []).map((e) => `${e.instancePath || 'the answer'} ${e.message ?? 'is invalid'}`).join('; ');
    throw new GpuToolError(`ds01-gpu gave an answer the wrapper does not understand: ${why || 'invalid'}`);
  }
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

/**
 * How to run ds01-gpu: DS01_GPU_BIN or ds01-gpu on PATH; a .js/.cjs file
 * through node; through `sudo -n` unless root. Always through sudo for
 * anyone else: the allocator's answer decides which GPUs a container gets,
 * and sudo's rule is what says which allocator that is (a ds01-gpu of the
 * caller's own, first on their PATH or in DS01_GPU_BIN, is refused there).
 */
export function gpuCommand(env: NodeJS.ProcessEnv): { file: string; prefix: string[] } {
  const base = gpuBinCommand(env);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) return base;
  return { file: 'sudo', prefix: ['-n', base.file, ...base.prefix] };
}

type GpuRun = { exitCode?: number | undefined; failed: boolean; shortMessage?: string | undefined; stdout: unknown; stderr: unknown };

/** ds01-gpu's JSON answer from a finished run; a run without one is a GpuToolError. */
function answerOf(file: string, command: string, r: GpuRun): { exitCode: number; json: unknown } {
  if (r.failed && r.exitCode === undefined) throw new GpuToolError(`cannot run ds01-gpu (${file}): ${r.shortMessage}`);
  let json: unknown;
  try {
    json = JSON.parse(String(r.stdout));
  } catch {
    const err = String(r.stderr).trim().split('\n').pop() ?? '';
    throw new GpuToolError(`ds01-gpu ${command} exited ${r.exitCode} without JSON${err ? `: ${err}` : ''}`);
  }
  return { exitCode: r.exitCode ?? 3, json };
}

async function callGpu(env: NodeJS.ProcessEnv, args: string[]): Promise<{ exitCode: number; json: unknown }> {
  const { file, prefix } = gpuCommand(env);
  const { execa } = await import('execa');
  const r = await execa(file, [...prefix, ...args, '--json'], { env, extendEnv: false, reject: false, stdin: 'ignore', stderr: 'pipe' });
  return answerOf(file, args[0] ?? '', r);
}

export async function allocateGpus(env: NodeJS.ProcessEnv, user: string, container: string, count: number): Promise<AllocateResult> {
  const { json } = await callGpu(env, ['allocate', '--user', user, '--container', container, '--count', String(count)]);
  return validateAnswer<AllocateResult>('allocate', json);
}

export async function bindReservation(env: NodeJS.ProcessEnv, reservation: string, containerId: string): Promise<StatusResult> {
  const { json } = await callGpu(env, ['bind', '--reservation', reservation, '--container-id', containerId]);
  return validateAnswer<StatusResult>('status', json);
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
  return validateAnswer<StatusResult>('status', json);
}

export async function startGpuContainer(env: NodeJS.ProcessEnv, containerId: string): Promise<StatusResult & { managed?: boolean }> {
  const { json } = await callGpu(env, ['start', '--container-id', containerId]);
  return validateAnswer<StatusResult>('status', json);
}
