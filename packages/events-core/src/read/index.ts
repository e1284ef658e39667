// The log path for readers that want to stay off the root entry (it loads the schemas and ajv).
export { eventsFilePath } from '../paths.js';
export { readLines } from './lines.js';
export { type LogFile, listLogFiles } from './log-files.js';
export { eventTime, normaliseRecord, parseEventLine } from './parse-line.js';
export { EventLogReader, type ReadOptions, type ReadRecord, readEvents } from './read-events.js';
