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
export { type Notice, type NoticeResult, sendNotice, terminalsOf } from './notify.js';
