// Imported first by the ds01-docker bin, so that it runs before the rest of
// the bundle initialises: a hand-off the launcher asked for is taken out of
// the environment while that is still the launcher's (hand-off.ts), the
// environment the launcher set aside comes back (launcher-env.ts), and a
// `run --gpus` starts its allocator at once, or takes the one the launcher
// started (see create/gpu-session.ts).
import { startEarlyGpuSession } from '../create/gpu-session.js';
import { takeHandOffRequest } from '../hand-off.js';
import { restoreLauncherEnv } from '../launcher-env.js';

takeHandOffRequest(process.env, process.argv.slice(2));
restoreLauncherEnv(process.env);
startEarlyGpuSession(process.argv.slice(2), process.env);
