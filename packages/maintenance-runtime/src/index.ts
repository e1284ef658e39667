export { type DecideInput, type Decision, decide } from './decide.js';
export {
  type Action,
  type ContainerReport,
  type EnforceOptions,
  enforceRuntime,
  type RunReport,
  type RuntimeDocker,
} from './enforce-runtime.js';
export { describeContainer, summaryLine } from './report-lines.js';
export { FINAL_WARNING_FRACTION, FIRST_WARNING_FRACTION, type RuntimePolicy, resolveRuntimePolicy } from './resolve-runtime-policy.js';
export { closeLap, type Lap, type LapObservation, type Ledger, observeLap, type RuntimeMode, runtimeMs } from './runtime-ledger.js';
export { type ContainerRecord, type RuntimeState, runtimeStateFile, STATE_FILE_NAME } from './runtime-state.js';
