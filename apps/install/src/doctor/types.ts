export type CheckState = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  id: string;
  title: string;
  state: CheckState;
  /** What was found, in plain words. */
  message: string;
  /** What to do about it, when something is wrong. */
  fix?: string;
}

export interface DoctorContext {
  prefix: string;
  env: NodeJS.ProcessEnv;
  /** A path on the site, where the checked tree has it. */
  at: (sitePath: string) => string;
}
