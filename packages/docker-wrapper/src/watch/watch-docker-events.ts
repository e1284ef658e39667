import { eventsFilePath, logEvent } from '@ds01/events-core';
import { takeRemovalMark } from '@ds01/events-core/jobs';
import { checkContinuity } from './check-continuity.js';
import { ContainerMemory } from './container-memory.js';
import { describeEvent, type PlannedEvent } from './describe-event.js';
import { type DockerEvent, isoFromNano, keyTime, nowNano, parseDockerEvent } from './docker-event.js';
import type { DockerSource } from './docker-source.js';
import { acquireInstanceLock } from './instance-lock.js';
import { GpuReconciler } from './reconcile-gpus.js';
import { recoverLoggedKeys, WATCH_SOURCE } from './recover-logged-keys.js';
import { LineSplitter } from './split-lines.js';
import { loadWatchState, markLog, saveWatchState, type WatchState } from './watch-state.js';

export class DockerUnavailableError extends Error {
  override name = 'DockerUnavailableError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
    super(
      `cannot reach the Docker daemon at ${address} (${why}). Start Docker (systemctl start docker) or point DOCKER_HOST at it; with --wait the watcher waits for it instead of exiting.`,
    );
  }
}

export interface WatcherOptions {
  docker: DockerSource;
  stateFile: string;
  /** Wait (with backoff) for a daemon that is not there at start, instead of failing. */
  waitForDocker?: boolean;
  /** Longest pause between reconnection attempts. */
  maxBackoffMs?: number;
  /**
   * Docker stamps an event before publishing it, so concurrent operations can
   * arrive slightly out of order; events this much older than the newest one
   * are still accepted (and remembered, so none is taken twice).
   */
  reorderWindowMs?: number;
  /** State is written at most this often (and when the stream goes quiet). */
  flushIntervalMs?: number;
  /** Containers remembered between their events. */
  memoryLimit?: number;
  reconciler?: GpuReconciler;
  /** Diagnostics (stderr in the service). */
  diag?: (message: string) => void;
}

export interface WatcherStats {
  received: number;
  logged: number;
  duplicates: number;
  malformed: number;
  lost: number;
  reconnects: number;
  gaps: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The Docker event watcher: follows the Engine's event stream and logs every
 * container's lifecycle, resuming exactly where it stopped. Resume point,
 * handled keys and a log mark are written at most every `flushIntervalMs`;
 * what it logged after the last write is found again in the log, so a kill
 * at any instant neither loses nor repeats an event.
 */
export class DockerEventWatcher {
  readonly stats: WatcherStats = { received: 0, logged: 0, duplicates: 0, malformed: 0, lost: 0, reconnects: 0, gaps: 0 };
  readonly memory: ContainerMemory;
  readonly reconciler: GpuReconciler;
  private readonly windowNano: bigint;
  private readonly flushIntervalMs: number;
  private readonly maxBackoffMs: number;
  private sinceNano = 0n;
  private anchor: string | null = null;
  private anchorNano = -1n;
  private readonly recent = new Map<string, bigint>();
  private stopping = false;
  private readonly stopController = new AbortController();
  private streamController: AbortController | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private readonly diag: (message: string) => void;
  /** The resume point is known (restored or started fresh): only then is state written. */
  private ready = false;

  constructor(private readonly options: WatcherOptions) {
    this.windowNano = BigInt(options.reorderWindowMs ?? 1000) * 1_000_000n;
    this.flushIntervalMs = options.flushIntervalMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.memory = new ContainerMemory(options.memoryLimit ?? 4096);
    this.diag = options.diag ?? ((m) => process.stderr.write(`ds01-docker-watch: ${m}\n`));
    this.reconciler = options.reconciler ?? new GpuReconciler({ log: this.diag });
  }

  /** Stops after the event in hand; `run()` then writes its state and resolves. */
  stop(): void {
    this.stopping = true;
    this.stopController.abort();
    this.streamController?.abort();
  }

  /** Runs until stop(). Throws DockerUnavailableError (no daemon at start) or AlreadyRunningError. */
  async run(): Promise<void> {
    const release = acquireInstanceLock(`${this.options.stateFile}.pid`);
    try {
      // Docker first: a state file is only read (and, if unreadable, moved aside) by a watcher that can go on.
      await this.waitForDocker();
      if (this.stopping) return;
      const loaded = loadWatchState(this.options.stateFile);
      const now = nowNano();
      if (loaded.kind === 'ok') {
        await this.restore(loaded.state, now);
      } else {
        this.sinceNano = now;
        if (loaded.kind === 'corrupt') {
          this.diag(
            `state file ${this.options.stateFile} was unreadable (${loaded.error}); moved to ${loaded.movedTo || '(could not move)'}`,
          );
          const from = loaded.lastWrite ? loaded.lastWrite.toISOString() : isoFromNano(now);
          this.logGap(from, isoFromNano(now), 'state_unreadable');
        }
      }
      this.ready = true;
      this.flush();
      logEvent('monitor.start', { source: WATCH_SOURCE, details: { since: isoFromNano(this.sinceNano), reconnects: 0 } });
      await this.follow();
    } finally {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      try {
        this.flush();
      } finally {
        release();
      }
      await this.reconciler.idle();
    }
  }

  private async waitForDocker(): Promise<void> {
    let backoff = 250;
    for (;;) {
      try {
        await this.options.docker.ping();
        return;
      } catch (err) {
        if (!this.options.waitForDocker) throw new DockerUnavailableError(this.options.docker.address, err);
        if (backoff === 250) this.diag(`${new DockerUnavailableError(this.options.docker.address, err).message.split('. ')[0]}; waiting`);
      }
      await sleep(backoff, this.stopController.signal);
      if (this.stopping) return;
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  private async restore(state: WatchState, now: bigint): Promise<void> {
    this.sinceNano = BigInt(state.since_nano);
    // Only the saved anchor and what the log shows was handled after it can be the anchor: with no anchor
    // saved (dropped after a reconnect, no event since), the recent keys must not bring back an old one.
    for (const key of state.recent) this.remember(key, false);
    if (state.anchor) this.remember(state.anchor);
    if (state.log) for (const key of recoverLoggedKeys(state.log, state.pid)) this.remember(key);
    let continuity: Awaited<ReturnType<typeof checkContinuity>>;
    try {
      continuity = await checkContinuity(this.options.docker, this.anchor, [...this.recent.keys()], now);
    } catch (err) {
      this.diag(`could not read Docker's event history to check for a gap: ${(err as Error).message}`);
      return;
    }
    if (continuity.gap) {
      this.logGap(isoFromNano(continuity.fromNano), isoFromNano(continuity.toNano), continuity.reason);
      // Continuity picks up at the oldest event Docker still holds: the next start checks for that one, so
      // this gap is never reported again, and a later one (Docker restarted while the watcher was down,
      // on a quiet host too) still is. It is not marked handled: a container event there is replayed.
      const t = continuity.resumeKey ? keyTime(continuity.resumeKey) : null;
      this.anchor = t === null ? null : continuity.resumeKey;
      this.anchorNano = t ?? -1n;
    }
  }

  /**
   * The daemon went away and came back: it may no longer hold the anchor, and
   * keeping it would report a gap at every later start. The next container
   * event becomes the anchor. (After a gap found at start, `restore` moves the
   * anchor to where Docker's history resumes instead.)
   */
  private dropAnchor(): void {
    this.anchor = null;
    this.anchorNano = -1n;
  }

  private logGap(from: string, to: string, reason: string): void {
    this.stats.gaps += 1;
    this.diag(`Docker events from ${from} to ${to} may be missing (${reason})`);
    logEvent('monitor.gap', { source: WATCH_SOURCE, details: { from, to, reason } });
  }

  private remember(key: string, mayAnchor = true): void {
    const t = keyTime(key);
    if (t === null) return;
    this.recent.set(key, t);
    if (mayAnchor && t >= this.anchorNano) {
      this.anchor = key;
      this.anchorNano = t;
    }
  }

  /** Follows the stream; reconnects with backoff whenever it ends or fails, until stop(). */
  private async follow(): Promise<void> {
    let backoff = 250;
    let connections = 0;
    while (!this.stopping) {
      let connectedAt = 0;
      try {
        this.streamController = new AbortController();
        const stream = await this.options.docker.events(this.sinceNano, this.streamController.signal);
        connectedAt = Date.now();
        connections += 1;
        if (connections > 1) {
          this.dropAnchor();
          this.diag(`reconnected to Docker at ${this.options.docker.address}`);
          logEvent('monitor.start', {
            source: WATCH_SOURCE,
            details: { since: isoFromNano(this.sinceNano), reconnects: this.stats.reconnects },
          });
        }
        await this.consume(stream);
        if (!this.stopping) this.diag('Docker closed the event stream (daemon stopping or restarting); reconnecting');
      } catch (err) {
        if (this.stopping) break;
        this.diag(`event stream from ${this.options.docker.address} failed: ${(err as Error).message}; reconnecting`);
      }
      if (this.stopping) break;
      this.flush();
      this.stats.reconnects += 1;
      if (connectedAt && Date.now() - connectedAt > 10_000) backoff = 250;
      await sleep(backoff, this.stopController.signal);
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  private async consume(stream: NodeJS.ReadableStream): Promise<void> {
    const splitter = new LineSplitter();
    try {
      for await (const chunk of stream) {
        for (const line of splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))) await this.handleLine(line);
        if (this.stopping) return;
      }
      for (const line of splitter.end()) await this.handleLine(line);
    } finally {
      this.stats.malformed += splitter.oversized;
    }
  }

  /** One line of the event stream. */
  async handleLine(line: string): Promise<void> {
    const ev = parseDockerEvent(line);
    if (!ev) {
      this.stats.malformed += 1;
      return;
    }
    if (ev.type !== 'container') return;
    await this.handleEvent(ev);
  }

  private async handleEvent(ev: DockerEvent): Promise<void> {
    this.stats.received += 1;
    if (ev.timeNano < this.sinceNano || this.recent.has(ev.key)) {
      this.stats.duplicates += 1;
      return;
    }
    const described = await describeEvent(ev, (id) => this.options.docker.inspect(id), this.memory);
    // A maintenance job that removed the container logged container.remove itself, with its reason.
    const loggedByJob = described.event?.type === 'container.remove' && takeRemovalMark(ev.id) !== null;
    if (described.event && !loggedByJob) await this.append(described.event);
    this.remember(ev.key);
    if (described.reconcileGpus) this.reconciler.request();
    this.scheduleFlush();
  }

  private async append(event: PlannedEvent): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (logEvent(event.type, { user: event.user, source: WATCH_SOURCE, details: event.details })) {
        this.stats.logged += 1;
        return;
      }
      // The log is unwritable (full disk, permissions): retry briefly, then move on so Docker does not drop us.
      await sleep(100 * 2 ** attempt);
    }
    this.stats.lost += 1;
    this.diag(`could not write ${event.type} for ${event.details.container} to ${eventsFilePath()}; event lost`);
  }

  private scheduleFlush(): void {
    const due = this.lastFlush + this.flushIntervalMs - Date.now();
    if (due <= 0) {
      this.flush();
      return;
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, due);
      this.flushTimer.unref();
    }
  }

  /** Writes the resume point: the window before the newest event, the keys inside it, and where the log ends. */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (!this.ready) return;
    if (this.anchorNano - this.windowNano > this.sinceNano) this.sinceNano = this.anchorNano - this.windowNano;
    for (const [key, t] of this.recent) if (t < this.sinceNano) this.recent.delete(key);
    const state: WatchState = {
      version: 1,
      since_nano: this.sinceNano.toString(),
      anchor: this.anchor,
      recent: [...this.recent.keys()],
      log: markLog(eventsFilePath()),
      pid: process.pid,
      updated_at: '',
    };
    try {
      saveWatchState(this.options.stateFile, state);
      this.lastFlush = Date.now();
    } catch (err) {
      this.diag(`could not write ${this.options.stateFile}: ${(err as Error).message}`);
    }
  }
}
