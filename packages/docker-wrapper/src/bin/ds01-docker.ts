#!/usr/bin/env node
// ds01-docker-wrapper: installed as `docker`; see the package README.
// First: it starts the allocator of a GPU create before the rest loads.
import './start-gpu-session.js';
import { endHandOff } from '../hand-off.js';
import { flushEvents } from '../log.js';
import { dispatch } from '../main.js';
import { exitLike, exitStatus } from '../real-docker.js';

// No top-level await: the bin is bundled as a script (tools/bundle-bins.mjs).
dispatch(process.argv.slice(2), process.env)
  .then(async (outcome) => {
    await flushEvents();
    endHandOff(exitStatus(outcome));
    exitLike(outcome);
  })
  .catch((err: unknown) => {
    process.stderr.write(`ds01: internal error: ${(err as Error).stack ?? err}\n  Tell an administrator; docker was not run.\n`);
    endHandOff(1);
    process.exit(1);
  });
