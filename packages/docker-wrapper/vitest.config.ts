import { defineDs01Project } from '../../test-support/vitest-project.ts';

// Files run one at a time: the wrapper's GPU tests and the watcher's tests share
// one Docker daemon, and an unmanaged `--gpus all` container created by one file
// would make every GPU look taken to the allocator in another.
export default defineDs01Project('docker-wrapper', { test: { fileParallelism: false } });
