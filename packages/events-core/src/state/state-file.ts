import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { ensureDir } from '../fs/ensure-dir.js';
import { type LockOptions, withFileLock } from './lock.js';

export interface Recovery {
  /** Where the unreadable file was moved. */
  movedTo: string;
  error: string;
}

export interface StateContext {
  /** Set when the file was unreadable and was moved aside; the caller rebuilds and reports it. */
  recovered?: Recovery;
}

export interface StateFileOptions extends LockOptions {
  /** Returns an error message when parsed data is not valid state (treated like a corrupt file). */
  validate?: (data: unknown) => string | null;
  /** File mode for new state files. */
  mode?: number;
}

/**
 * A JSON state file kept with lowdb: every change happens under the
 * cross-process lock, and lowdb writes through a temporary file and a rename,
 * so readers see the old state or the new one, never half of one.
 */
export class StateFile<T extends object> {
  constructor(
    readonly file: string,
    private readonly initial: () => T,
    private readonly options: StateFileOptions = {},
  ) {}

  /** Reads without the lock (a consistent snapshot thanks to atomic writes). */
  async read(): Promise<{ data: T; context: StateContext }> {
    const db = new Low<T>(new JSONFile<T>(this.file), this.initial());
    try {
      await db.read();
    } catch (err) {
      return { data: this.initial(), context: { recovered: { movedTo: '', error: describe(err) } } };
    }
    const problem = this.options.validate?.(db.data);
    if (problem) return { data: this.initial(), context: { recovered: { movedTo: '', error: problem } } };
    return { data: db.data, context: {} };
  }

  /**
   * Locks, reads, lets `fn` change the data in place (or return new data), and
   * writes it back atomically when `fn` returns. If `fn` throws nothing is written.
   */
  async update<R>(fn: (data: T, context: StateContext) => Promise<R> | R): Promise<R> {
    return withFileLock(
      this.file,
      async () => {
        ensureDir(path.dirname(this.file));
        const db = new Low<T>(new JSONFile<T>(this.file), this.initial());
        const context: StateContext = {};
        try {
          await db.read();
          const problem = this.options.validate?.(db.data);
          if (problem) throw new Error(problem);
        } catch (err) {
          context.recovered = { movedTo: this.moveAside(), error: describe(err) };
          db.data = this.initial();
        }
        const result = await fn(db.data, context);
        await db.write();
        if (this.options.mode !== undefined) {
          try {
            fs.chmodSync(this.file, this.options.mode);
          } catch {
            /* not ours to change */
          }
        }
        return result;
      },
      this.options,
    );
  }

  private moveAside(): string {
    const target = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '')}`;
    try {
      fs.renameSync(this.file, target);
      return target;
    } catch {
      return '';
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
