// The config file's path (DS01_CONFIG or the default), for tools that load only this subpath.
export { configFilePath } from '../paths.js';
export { ACCESS_SNAPSHOT_FILE, type AccessSnapshot, readAccessSnapshot, writeAccessSnapshot } from './access-snapshot.js';
export { durationInUnit, hoursToMs, minutesToMs, secondsToMs } from './durations.js';
export { checkExemption, type Exemption, type ExemptionDecision, type ExemptionList, loadExemptions, parseExpiry } from './exemptions.js';
export { ConfigError, type ConfigProblem, formatProblem, type LimitBlock, loadSiteConfig, type SiteConfig } from './load.js';
export { sanitiseUserName, userSliceName } from './names.js';
export {
  BUILTIN_POLICIES,
  groupOf,
  LIFECYCLE_KEYS,
  type LifecycleKey,
  type LimitSource,
  NATIVE_TYPES,
  type ResolvedLifecycleValue,
  type ResolvedLimits,
  resolveLifecycleLimit,
  resolveUserLimits,
} from './resolve.js';
export { limitBlockProperties, policiesSchema, siteConfigSchema } from './schema.js';
