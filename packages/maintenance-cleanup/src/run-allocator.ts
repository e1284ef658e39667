import { gpuBinCommand } from '@ds01/events-core/paths';
import { Ajv, type ValidateFunction } from 'ajv';
import { execa } from 'execa';
import { errorSchema } from './allocator-schemas.js';

export type AllocatorResult<T> = { ok: true; data: T } | { ok: false; message: string };

/** events-core's gpuBinCommand, with the path to show in messages. */
export function allocatorCommand(env: NodeJS.ProcessEnv = process.env): { file: string; prefix: string[]; shown: string } {
  const { file, prefix } = gpuBinCommand(env);
  return { file, prefix, shown: prefix[0] ?? file };
}

const ajv = new Ajv({ allErrors: true, strict: false });
function validatorFor(schema: { $id: string }): ValidateFunction {
  return ajv.getSchema(schema.$id) ?? ajv.compile(schema);
}

/**
 * Runs one `ds01-gpu ... --json` command and checks its answer against the
 * schema this job owns. Never throws: a missing bin, a failure, a timeout or
 * an answer of the wrong shape comes back as `{ok: false, message}`.
 */
export async function runAllocator<T>(args: string[], schema: { $id: string }, timeoutMs = 120_000): Promise<AllocatorResult<T>> {
  const { file, prefix, shown } = allocatorCommand();
  const what = `${shown} ${args.join(' ')}`;
  let result: Awaited<ReturnType<typeof execa>>;
  try {
    result = await execa(file, [...prefix, ...args, '--json'], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  } catch (err) {
    return { ok: false, message: `${what}: ${(err as Error).message}` };
  }
  const stdout = String(result.stdout ?? '').trim();
  if (result.failed && (result as { code?: string }).code === 'ENOENT') {
    return { ok: false, message: `${what}: ${shown} not found (set DS01_GPU_BIN or put ds01-gpu on PATH)` };
  }
  if (result.timedOut) return { ok: false, message: `${what}: no answer within ${timeoutMs / 1000}s` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    const stderr =
      String(result.stderr ?? '')
        .trim()
        .split('\n')
        .pop() ?? '';
    return { ok: false, message: `${what}: exit ${result.exitCode ?? '?'}, no JSON on stdout${stderr ? ` (${stderr})` : ''}` };
  }
  if (result.exitCode !== 0) {
    const why = validatorFor(errorSchema)(parsed) ? (parsed as { message?: string; reason?: string }) : {};
    return {
      ok: false,
      message: `${what}: exit ${result.exitCode}${why.reason ? ` ${why.reason}` : ''}${why.message ? `: ${why.message}` : ''}`,
    };
  }
  const validate = validatorFor(schema);
  if (!validate(parsed)) {
    return { ok: false, message: `${what}: unexpected answer (${ajv.errorsText(validate.errors, { dataVar: 'output' })})` };
  }
  return { ok: true, data: parsed as T };
}
