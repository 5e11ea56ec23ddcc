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
  // Three files at once on two cores: most suites wait on chains and timers (two workers kept the
  // cores 61 % busy; three finished jest in 673-688 s against 933 s). Suites with a time bound
  // measure it against their own pace in the same run (hostile/tenants sizes its stall so).
  maxWorkers: 3,
  // The slowest files first, on a fresh clone too (jest's own order needs its cache of earlier runs).
  testSequencer: '<rootDir>/test/helpers/slowest-first.mjs',
};
