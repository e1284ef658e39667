export { type JobLockResult, withJobLock } from './job-lock.js';
export { type Notice, type NoticeResult, sendNotice, terminalsOf } from './notify.js';
