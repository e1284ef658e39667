// Imported first by the ds01-docker bin, so that it runs before the rest of
// the bundle initialises: a `run --gpus` starts its allocator at once (see
// create/gpu-session.ts).
import { startEarlyGpuSession } from '../create/gpu-session.js';

startEarlyGpuSession(process.argv.slice(2), process.env);
