import { defineConfig } from 'vitest/config';

// `npm run coverage` (devtools/coverage.ts) names a directory in GITOPS_CHILD_COVERAGE: every node process the
// tests start (the CLI, the daemon, the example pipeline) inherits NODE_V8_COVERAGE from the workers and writes
// its coverage there; devtools/coverage.ts merges it with this in-process report and holds the thresholds.
const childCoverage = process.env.GITOPS_CHILD_COVERAGE;

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    env: childCoverage ? { NODE_V8_COVERAGE: childCoverage } : {},
    coverage: {
      provider: 'v8',
      include: ['agent/**/*.ts', 'scripts/**/*.ts', 'examples/pipeline/**/*.ts'],
      reportsDirectory: 'coverage/vitest',
      reporter: childCoverage ? ['json'] : ['json', 'text-summary', 'text'],
      reportOnFailure: true,
    },
  },
});

// vitest loads the config module's default export; this is the one default export in the project.
export default config;
