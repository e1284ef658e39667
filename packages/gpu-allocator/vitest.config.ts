import { defineDs01Project } from '../../test-support/vitest-project.ts';

export default defineDs01Project('gpu-allocator', {
  // Each test drives the real bin several times against a real engine; on a shared, busy 2-core
  // machine one call can take seconds. The timeouts only stop a hung test; nothing asserts speed.
  test: { testTimeout: 180_000 },
});
