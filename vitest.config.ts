import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native kernels use both cores through OpenMP; parallel test files would fight over them.
    fileParallelism: false,
    testTimeout: 120_000,
    // Setup hooks train small SAEs too; under load they outlast vitest's 10 s default.
    hookTimeout: 120_000,
  },
});
