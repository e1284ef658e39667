import { gpuBinCommand } from '@ds01/events-core/paths';
import { Ajv } from 'ajv';
import { execa } from 'execa';

/** What the watcher expects from `ds01-gpu reconcile --json` (contract in the allocator's README). */
const reconcileSchema = {
  type: 'object',
  required: ['status', 'released'],
  properties: {
    status: { const: 'ok' },
    released: {
      type: 'array',
      items: { type: 'object', properties: { container: { type: 'string' }, reason: { type: 'string' } } },
    },
  },
} as const;

export interface ReconcileResult {
  status: 'ok';
  released: { container?: string; container_id?: string; reason?: string }[];
}

const validateResult = new Ajv().compile<ReconcileResult>(reconcileSchema);

export interface ReconcilerOptions {
  timeoutMs?: number;
  /** Least time between the starts of two runs: a burst of GPU stops costs a few processes, not one each. */
  minIntervalMs?: number;
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `ds01-gpu reconcile --json` after a GPU container stops or goes away,
 * off the event path. The first request runs at once; requests that arrive
 * while one runs (or within `minIntervalMs` of its start) are folded into a
 * single follow-up run, which sees all of them: a burst of stops costs a few
 * runs, not one per container.
 */
export class GpuReconciler {
  private running: Promise<void> | null = null;
  private again = false;
  private missingReported = false;
  private lastStart = 0;
  /** Runs finished (ok or not); for status and tests. */
  runs = 0;
  failures = 0;

  constructor(private readonly options: ReconcilerOptions = {}) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no run is in progress or queued (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    const interval = this.options.minIntervalMs ?? 1000;
    do {
      const wait = this.lastStart + interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.again = false;
      this.lastStart = Date.now();
      await this.runOnce();
    } while (this.again);
  }

  private async runOnce(): Promise<void> {
    const log = this.options.log ?? ((m: string) => process.stderr.write(`ds01-docker-watch: ${m}\n`));
    const env = this.options.env ?? process.env;
    const { file, prefix: args } = gpuBinCommand(env);
    try {
      const result = await execa(file, [...args, 'reconcile', '--json'], {
        env,
        reject: false,
        timeout: this.options.timeoutMs ?? 30_000,
        stdin: 'ignore',
      });
      this.runs += 1;
      if (result.failed && (result as { code?: string }).code === 'ENOENT') {
        this.failures += 1;
        if (!this.missingReported) log(`GPU reconcile skipped: ${file} not found (set DS01_GPU_BIN)`);
        this.missingReported = true;
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(result.stdout));
      } catch {
        parsed = undefined;
      }
      if (result.exitCode !== 0 || !validateResult(parsed)) {
        this.failures += 1;
        const why = result.timedOut ? 'timed out' : `exit ${result.exitCode ?? 'none'}`;
        log(
          `GPU reconcile failed (${why}): ${
            String(result.stderr || result.stdout)
              .trim()
              .split('\n')[0]
              ?.slice(0, 300) ?? ''
          }`,
        );
      }
    } catch (err) {
      this.runs += 1;
      this.failures += 1;
      log(`GPU reconcile failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
