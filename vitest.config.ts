// Root Vitest config: one project per workspace under packages/ and apps/.
// Vitest 4 reads `test.projects` (a vitest.workspace.ts file would be silently
// ignored). A workspace with its own vitest.config.ts (see
// test-support/vitest-project.ts) is used as is; one without gets the same
// shared settings, so `--project <dir-name>` always works (directory names are
// unique across packages/ and apps/). Run tests through
// `node test-support/run-tests.mjs`, which provides Docker.

import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { defineDs01Project } from './test-support/vitest-project.ts';

function projectsUnder(parent: 'packages' | 'apps') {
  const dir = fileURLToPath(new URL(`./${parent}/`, import.meta.url));
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(`${dir}${entry.name}/package.json`))
    .map((entry) => entry.name)
    .sort()
    .map((name) =>
      existsSync(`${dir}${name}/vitest.config.ts`)
        ? `${parent}/${name}/vitest.config.ts`
        : defineDs01Project(name, { test: { root: `${dir}${name}` } }),
    );
}

const projects = [...projectsUnder('packages'), ...projectsUnder('apps')];

export default defineConfig({
  test: {
    projects,
  },
});
