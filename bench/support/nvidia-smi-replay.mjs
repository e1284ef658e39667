// A recorded nvidia-smi for benchmarks: the test stand-in (a Node script,
// ~40 ms a start) answers the allocator's two calls once, and a /bin/sh script
// replays those answers, so a benchmark measures ds01's own cost. On a real
// host add the driver's answer time (tens of ms with persistence mode on).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Writes `<dir>/nvidia-smi` replaying the scenario's answers; returns its path. */
export async function recordNvidiaSmi(dir, scenario = 'a100x4') {
  const standIn = path.join(root, 'test-support/bin/nvidia-smi');
  const env = { ...process.env, DS01_FAKE_GPUS: scenario };
  const { QUERY_FIELDS } = await import(path.join(root, 'packages/gpu-allocator/dist/inventory/parse-query.js'));
  const queryArg = `--query-gpu=${QUERY_FIELDS.join(',')}`;
  fs.writeFileSync(path.join(dir, 'list.txt'), (await run(standIn, ['-L'], { env })).stdout);
  fs.writeFileSync(path.join(dir, 'query.txt'), (await run(standIn, [queryArg, '--format=csv,noheader,nounits'], { env })).stdout);
  const replay = path.join(dir, 'nvidia-smi');
  fs.writeFileSync(
    replay,
    `#!/bin/sh\ncase "$1" in\n  -L) exec cat '${dir}/list.txt' ;;\n  '${queryArg}') exec cat '${dir}/query.txt' ;;\nesac\necho "replay: unrecorded call: $*" >&2\nexit 9\n`,
    { mode: 0o755 },
  );
  return replay;
}
