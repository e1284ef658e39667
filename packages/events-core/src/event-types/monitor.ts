import { details, num, str } from './schema-parts.js';

/** The Docker event watcher's own health. */
export const monitorEvents = {
  'monitor.gap': {
    description: 'Docker events between two times may be missing (the watcher was down longer than Docker keeps history).',
    details: details({ from: str, to: str, reason: str }, ['from', 'to']),
  },
  'monitor.start': {
    description: 'The Docker event watcher started or reconnected.',
    details: details({ since: str, reconnects: num }, []),
  },
} as const;
