import { EVENT_TYPE_PATTERN, eventsFilePath, logUncataloguedEvent } from '@ds01/events-core';
import { isCatalogued, validateDetails } from '@ds01/events-core/catalogue';

/** A usage problem in `ds01-events log` arguments (exit 2). */
export class LogUsageError extends Error {
  override name = 'LogUsageError';
}

/**
 * Parses `key=value` (always a string) and `key:=json` (a typed JSON value)
 * pairs. A repeated key keeps the last value. No guessing of types: `gpu=0`
 * stays the string "0", unlike the original CLI.
 */
export function parseDetailPairs(pairs: string[]): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const pair of pairs) {
    const typed = pair.indexOf(':=');
    const plain = pair.indexOf('=');
    if (plain <= 0) throw new LogUsageError(`detail "${pair}" is not key=value or key:=json`);
    if (typed > 0 && typed === plain - 1) {
      const key = pair.slice(0, typed);
      const text = pair.slice(typed + 2);
      try {
        details[key] = JSON.parse(text);
      } catch {
        throw new LogUsageError(`detail ${key}:=${text} is not valid JSON (use ${key}=${text} for a string)`);
      }
    } else {
      details[pair.slice(0, plain)] = pair.slice(plain + 1);
    }
  }
  return details;
}

export interface LogCommand {
  type: string;
  pairs: string[];
  user?: string;
  source?: string;
}

/**
 * Writes one event; a catalogued type must carry valid details (a usage
 * error otherwise). Writing itself is best-effort: events-core warns on
 * stderr and the command still succeeds, so a script never fails on logging.
 */
export function runLog(cmd: LogCommand, env: NodeJS.ProcessEnv = process.env): { written: boolean } {
  if (!new RegExp(EVENT_TYPE_PATTERN).test(cmd.type)) {
    throw new LogUsageError(`event type "${cmd.type}" must look like category.action (lowercase, e.g. site.disk_swap)`);
  }
  const details = parseDetailPairs(cmd.pairs);
  if (isCatalogued(cmd.type)) {
    const r = validateDetails(cmd.type, details);
    if (!r.valid) throw new LogUsageError(`${cmd.type}: ${r.errors.join('; ')} (see: ds01-events types)`);
  }
  const written = logUncataloguedEvent(cmd.type, {
    file: eventsFilePath(env),
    user: cmd.user ?? null,
    source: cmd.source ?? 'ds01-events',
    ...(Object.keys(details).length > 0 ? { details } : {}),
  });
  return { written };
}
