import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run; every test file gets its endpoint and table via inject().
    globalSetup: ['test/support/global-setup.ts'],
    // Sets process.env before any test module imports function code (config and loggers read it).
    setupFiles: ['test/support/setup-env.ts'],
    // Child processes, not threads: the local-runtime test spawns and signals processes.
    pool: 'forks',
    // The CI machine has 2 cores; more workers only contend with DynamoDB Local's JVM.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
  },
});
