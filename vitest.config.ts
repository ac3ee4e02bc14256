import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['agent/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'agent/core/**': { lines: 95 } },
    },
  },
});

// vitest loads the config module's default export; this is the one default export in the project.
export default config;
