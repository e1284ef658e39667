import { defineDs01Project } from '../../test-support/vitest-project.ts';

export default defineDs01Project('demo');
