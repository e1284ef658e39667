// Imported first by the ds01-docker bin, so that it runs before the rest of
// the bundle initialises: the environment the launcher set aside comes back
// (launcher-env.ts), and a `run --gpus` starts its allocator at once, or
// takes the one the launcher started (see create/gpu-session.ts).
import { startEarlyGpuSession } from '../create/gpu-session.js';
import { restoreLauncherEnv } from '../launcher-env.js';

restoreLauncherEnv(process.env);
startEarlyGpuSession(process.argv.slice(2), process.env);
