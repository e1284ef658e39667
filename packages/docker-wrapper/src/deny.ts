import { logEvent } from './log.js';

/** A refusal by one of the wrapper's rules: exit 1, a message naming the rule and what to do instead. */
export class Denial extends Error {
  override name = 'Denial';
  /** Already logged as `auth.denied` by whoever refused first (ds01-docker-proxy): not logged twice. */
  logged = false;
  constructor(
    readonly rule: string,
    readonly reason: string,
    readonly hint: string,
    readonly target?: string,
  ) {
    super(`${rule}: ${reason}`);
  }
}

/** Raised for bad input the wrapper itself reads (a --label-file that cannot be read...). */
export class UsageError extends Error {
  override name = 'UsageError';
}

const SOURCE = 'docker-wrapper';

export function reportDenial(d: Denial, user: string, operation: string): void {
  process.stderr.write(`ds01: refused (${d.rule}): ${d.reason}\n${d.hint ? `  ${d.hint}\n` : ''}`);
  const details: { operation: string; rule: string; reason: string; target?: string } = { operation, rule: d.rule, reason: d.reason };
  if (d.target) details.target = d.target;
  if (!d.logged) logEvent('auth.denied', { user, source: SOURCE, details });
}

export { SOURCE as EVENT_SOURCE };
