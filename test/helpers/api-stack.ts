import { ledgerInvariantViolations } from '../../src/db/repositories/ledger.repository';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { startTestApi, type TestApi } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { connectToDevServer, uniqueTaskQueue } from './temporal';
import { startDevServerWorker, type RunningWorker } from './worker';
import { buildMerchant } from '../../dev/fixtures';

export interface ApiStack {
  database: TestDatabase;
  dev: Awaited<ReturnType<typeof connectToDevServer>>;
  worker: RunningWorker;
  api: TestApi;
  /** A merchant with a test and a live key. */
  acme: CreatedMerchant;
  taskQueue: string;
}

/**
 * The whole gateway for an integration test file, set up in beforeAll and torn down in afterAll:
 * a fresh database, inflow's own worker on the run's Temporal dev server (its own task queue), the
 * real API on a free port with simulated blocks every 10 ms, and a merchant. The ledger's
 * invariants must hold at the end. Read the fields inside tests and hooks.
 */
export function useApiStack(label: string): ApiStack {
  const stack = { taskQueue: uniqueTaskQueue(label) } as ApiStack;

  beforeAll(async () => {
    stack.database = await createTestDatabase();
    stack.dev = await connectToDevServer();
    stack.worker = await startDevServerWorker({
      databaseUrl: stack.database.url,
      db: stack.database.db,
      connection: stack.dev.nativeConnection,
      temporal: stack.dev.client,
      taskQueue: stack.taskQueue,
    });
    // Blocks every 10 ms instead of every 12 s: the workflow code and timers are the real ones
    // (the dev server fires timers at about one-second granularity, so a deposit takes ~12 s).
    stack.api = await startTestApi({ db: stack.database.db, temporal: stack.dev.client, taskQueue: stack.taskQueue, simulatedBlockTimeMs: 10 });
    stack.acme = await buildMerchant(stack.database.db, 'Acme');
  });

  afterAll(async () => {
    await stack.api?.close();
    await stack.worker?.stop();
    await stack.dev?.close();
    if (stack.database) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack.database?.destroy();
  });

  return stack;
}
