// Shared Vitest project settings for every package. A package's
// vitest.config.ts is just:
//
//   import { defineDs01Project } from '../../test-support/vitest-project.ts';
//
//   export default defineDs01Project('events-core');
//
// The name must be the package's directory name: `--project <name>` (used by
// the package's `npm test`) selects it.

import { fileURLToPath } from 'node:url';
import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

const setupFile = fileURLToPath(new URL('./vitest-setup.ts', import.meta.url));

export function defineDs01Project(name: string, overrides: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  const base = defineProject({
    test: {
      name,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      pool: 'forks',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      setupFiles: [setupFile],
    },
  });
  return mergeConfig(base, overrides) as UserWorkspaceConfig;
}
