export {
  type ClassifiedContainer,
  type ContainerStatus,
  classifyContainer,
  type InspectLike,
  type LabelMatcher,
  labelsMatch,
  parseLabelMatcher,
} from './classify-container.js';
export { type JobLockResult, withJobLock } from './job-lock.js';
export {
  type ContainerLister,
  type ContainerListing,
  type ContainerSummaryLike,
  type ListOptions,
  listClassifiedContainers,
} from './list-containers.js';
export { type Notice, type NoticeResult, sendNotice, terminalsOf } from './notify.js';
export { clearRemovalMark, markRemoval, takeRemovalMark } from './removal-marks.js';
export {
  type StopExpectation,
  type StoppableContainer,
  type StopResult,
  type StopSkipReason,
  stopContainerChecked,
} from './stop-container.js';
export { planWarnings, type WarningPlan, type WarningScheduleInput, type WarningStep, type WarningsSent } from './warning-schedule.js';
