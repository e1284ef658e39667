// Imported first by the ds01-gpu bin, so that it runs before the rest of the
// bundle initialises: the wrapper's session (allocate --stdin) starts its
// nvidia-smi query at once (see inventory/run-nvidia-smi.ts).
import { startEarlyGpuQuery } from '../inventory/run-nvidia-smi.js';
import { runsSessionDirectly } from '../session-command-line.js';

if (runsSessionDirectly(process.argv.slice(2))) startEarlyGpuQuery(process.env);
