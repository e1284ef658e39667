export { type AdminPolicy, adminPolicyOf, type CallerIdentity, getCallerIdentity, IdentityError } from './caller.js';
export { groupMembers, groupsOfUser, lookupUser, type PasswdEntry } from './user-db.js';
