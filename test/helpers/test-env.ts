/** Names of the environment variables through which global-setup hands its servers to the tests. */
export const testEnv = {
  postgresUrl: 'INFLOW_TEST_POSTGRES_URL',
  temporalAddress: 'INFLOW_TEST_TEMPORAL_ADDRESS',
  testServer: 'INFLOW_TEST_TIME_SKIPPING_SERVER',
  /** The Chromium the dashboard's browser tests drive, or `missing: <what to do>`. */
  chromium: 'INFLOW_TEST_CHROMIUM',
} as const;

export function readTestEnv(name: keyof typeof testEnv): string {
  const value = process.env[testEnv[name]];
  if (value === undefined) throw new Error(`${testEnv[name]} is not set: run the tests through jest (global-setup starts the servers)`);
  return value;
}
