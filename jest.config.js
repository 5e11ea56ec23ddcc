/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // One embedded Postgres cluster and one Temporal dev server for the whole run; every test file
  // makes its own database and task queue, so files run in parallel without sharing state.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  setupFiles: ['<rootDir>/test/helpers/quiet-temporal.ts'],
  testTimeout: 60_000,
  // Two files at once on two cores. Most suites wait on chains and timers (two workers kept the cores
  // 61 % busy), and three finished in 673-688 s against 933 s, but made timing-bound suites flaky
  // (hostile/tenants' stall window): three wait until those measure against their own clock.
  maxWorkers: 2,
};
