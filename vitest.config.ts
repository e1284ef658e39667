// Root Vitest config: one project per package under packages/. Vitest 4 reads
// `test.projects` (a vitest.workspace.ts file would be silently ignored).
// A package with its own vitest.config.ts (see test-support/vitest-project.ts)
// is used as is; one without gets the same shared settings, so
// `--project <dir-name>` always works. Run tests through
// `node test-support/run-tests.mjs`, which provides Docker.

import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { defineDs01Project } from './test-support/vitest-project.ts';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

const projects = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${packagesDir}${entry.name}/package.json`))
  .map((entry) => entry.name)
  .sort()
  .map((name) =>
    existsSync(`${packagesDir}${name}/vitest.config.ts`)
      ? `packages/${name}/vitest.config.ts`
      : defineDs01Project(name, { test: { root: `${packagesDir}${name}` } }),
  );

export default defineConfig({
  test: {
    projects,
  },
});
