export { type Agreement, checkAgreement, type GpuHolder } from './check-agreement.js';
export { DEMO_CONFIG, DEMO_GPU_SCENARIO, DEMO_TIMES, DEMO_USERS } from './demo-config.js';
export { makeNarrator, type Narrator } from './narrate.js';
export { type LoggedEvent, readEventsFrom } from './read-log.js';
export { type DemoOptions, type DemoReport, runDemo } from './run-demo.js';
export type { ScenarioResult, StepRecord } from './scenario.js';
