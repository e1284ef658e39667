/**
 * @ds01/events-core: the event log every ds01 tool writes, and its reader.
 * The shared contracts have their own entry points:
 * `@ds01/events-core/config`, `/labels`, `/identity`, `/state`, `/jobs`, `/read`, `/time`, `/engine`,
 * and the catalogue's schemas and validators, `/catalogue`. This entry loads
 * none of them: every bin imports it to log events.
 */
export {
  type Actor,
  type Ds01Event,
  EVENT_TYPE_PATTERN,
  envelopeSchema,
  MAX_LINE_BYTES,
  SCHEMA_VERSION,
  type Truncation,
} from './envelope.js';
export type { EventCatalogue, EventDetails, EventSpec, EventType } from './event-types/index.js';
export {
  configFilePath,
  DEFAULT_CONFIG_FILE,
  DEFAULT_EVENTS_FILE,
  DEFAULT_STATE_DIR,
  eventsFilePath,
  stateDir,
  statePath,
} from './paths.js';
export { EventLogReader, type ReadOptions, type ReadRecord, readEvents } from './read/index.js';
export { closeEventLogs, LOG_DIR_MODE, LOG_FILE_MODE, REOPEN_CHECK_MS } from './write/append.js';
export { toJsonSafe } from './write/json-safe.js';
export { buildLine, type LogOptions, logEvent, logUncataloguedEvent } from './write/log-event.js';
