import { type EventDetails, logEvent } from '@ds01/events-core';
import type { Denial } from '../deny.js';

export const PROXY_SOURCE = 'ds01-docker-proxy';

const WINDOW_MS = 60_000;

type DeniedDetails = EventDetails<'auth.denied'>;

interface Window {
  start: number;
  logged: number;
  dropped: number;
  timer?: NodeJS.Timeout;
}

/**
 * `auth.denied` events, at most `perMinute` per user and minute (wrapper-spec
 * §7 B11: a user looping on refused requests would otherwise fill the log).
 * What is left out is counted and logged as one `auth.denied` with rule
 * `rate-limited` when the minute ends (or the proxy stops).
 */
export class DenialLog {
  private readonly windows = new Map<string, Window>();
  constructor(private readonly perMinute: number) {}

  log(d: Denial, user: string, operation: string): void {
    const details: DeniedDetails = { operation, rule: d.rule, reason: d.reason };
    if (d.target) details.target = d.target;
    this.logDetails(user, details, PROXY_SOURCE);
  }

  /** One refusal, from the proxy's rules or relayed from the wrapper in front of it. */
  logDetails(user: string, details: DeniedDetails, source: string): void {
    const now = Date.now();
    let w = this.windows.get(user);
    if (!w || now - w.start >= WINDOW_MS) {
      if (w) this.flush(user, w);
      w = { start: now, logged: 0, dropped: 0 };
      this.windows.set(user, w);
    }
    if (w.logged >= this.perMinute) {
      w.dropped += 1;
      if (!w.timer) {
        const win = w;
        win.timer = setTimeout(() => this.flush(user, win), Math.max(0, win.start + WINDOW_MS - now));
        win.timer.unref();
      }
      return;
    }
    w.logged += 1;
    logEvent('auth.denied', { user, source, details });
  }

  /** Logs what every window left out (at shutdown). */
  flushAll(): void {
    for (const [user, w] of this.windows) this.flush(user, w);
    this.windows.clear();
  }

  private flush(user: string, w: Window): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
    if (w.dropped === 0) return;
    logEvent('auth.denied', {
      user,
      source: PROXY_SOURCE,
      details: {
        operation: 'several',
        rule: 'rate-limited',
        reason: `${w.dropped} more refusals from ${new Date(w.start).toISOString()} on were not logged one by one (limit ${this.perMinute} a minute)`,
      },
    });
    w.dropped = 0;
  }
}
