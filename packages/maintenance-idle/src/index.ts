/** @ds01/maintenance-idle: the idle job as a library (the bin is `ds01-idle`). */
export {
  decideIdle,
  FINAL_WARNING_FRACTION,
  FIRST_WARNING_FRACTION,
  type IdleDecision,
  type IdleRules,
  type Observation,
} from './decide.js';
export { type Demand, measureDemand, parseGpuList } from './high-demand.js';
export { type ContainerEntry, type IdleState, idleStateFile, type Sample } from './idle-state.js';
export { type ContainerReport, describeReport, JOB, type RunOptions, type RunReport, runIdle } from './run-idle.js';
