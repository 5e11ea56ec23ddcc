import { existsSync } from 'node:fs';
import type { TestDependencies } from './global-setup';
import { waitFor } from './wait';

export default async function globalTeardown(): Promise<void> {
  const deps = (globalThis as { inflowTestDependencies?: TestDependencies }).inflowTestDependencies;
  if (!deps) return;
  await Promise.all([deps.temporal.stop(), deps.postgres.stop()]);
  // Postgres's stop answers once its port is closed; its shutdown checkpoint and the removal of the
  // run's cluster (hundreds of databases) go on after that, and would hold jest open ("did not exit
  // one second after the test run"). The directory is gone when they are done.
  await waitFor('the test cluster removed', async () => !existsSync(deps.postgresDataDir), 60_000);
}
