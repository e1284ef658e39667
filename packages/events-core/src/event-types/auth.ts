import { bool, details, str } from './schema-parts.js';

/** Policy decisions at the docker boundary. */
export const authEvents = {
  'auth.denied': {
    description: 'The docker wrapper refused an operation.',
    details: details({ operation: str, target: str, rule: str, reason: str, command: str, container: str, container_type: str }, [
      'operation',
      'rule',
      'reason',
    ]),
  },
  'auth.bypass': {
    description: 'An admin used the wrapper bypass or monitor-only mode, or a non-admin tried to.',
    details: details({ mode: str, operation: str, allowed: bool, reason: str }, ['mode', 'allowed']),
  },
  'access.unowned_container': {
    description: 'An admin acted on a container that has no owner label.',
    details: details({ container: str, operation: str }, ['container', 'operation']),
  },
} as const;
