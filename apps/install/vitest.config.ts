import { defineDs01Project } from '../../test-support/vitest-project.ts';

// Each test starts the installer (and the doctor, and the installed commands) as processes: a few
// seconds each on a busy machine, so the per-test limit is wider than the shared 30 s.
export default defineDs01Project('install', { test: { testTimeout: 120_000 } });
