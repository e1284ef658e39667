export { type LockOptions, LockTimeoutError, tryFileLock, withFileLock } from './lock.js';
export { type Recovery, type StateContext, StateFile, type StateFileOptions } from './state-file.js';
