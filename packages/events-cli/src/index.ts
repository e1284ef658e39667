/** ds01-events as a library: the pieces the CLI is made of, for tests and other front ends. */
export { buildFilter, type EventFilter, type FilterSpec } from './build-filter.js';
export { type CliIo, runCli } from './cli.js';
export { readCursor, writeCursor } from './cursor.js';
export { catalogueInfo } from './list-types.js';
export { parseDetailPairs } from './log-command.js';
export { parseTimeSpec, TimeSpecError } from './parse-time.js';
export { DEFAULT_LIMIT, type QueryOptions, runQuery } from './query.js';
export { toQueryOptions, UsageError } from './query-args.js';
export { Summariser, type Summary } from './summarise.js';
export { typeMatcher } from './type-match.js';
