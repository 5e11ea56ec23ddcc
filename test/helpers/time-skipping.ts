import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildCustomer, staticPrices, testSecretKey, type BuiltCustomer } from '../../dev/fixtures';
import { InflowStack } from '../../dev/stack';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import type { Mode } from '../../src/domain/mode';
import type { PriceSource } from '../../src/prices/price-source';
import { developmentWebhookPolicy } from '../../src/webhooks/deliveries';
import { createInflowWorkers } from '../../src/worker';
import { createTestDatabase, type TestDatabase } from './database';
import { timeSkippingLauncher, uniqueTaskQueue } from './temporal';
import { bundleInflowWorkflows } from './worker';

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  taskQueue: string;
  /** A merchant with one test-mode customer. */
  seeded: BuiltCustomer;
}

/**
 * What a workflow test file needs, set up once in beforeAll and torn down in afterAll (assembled by
 * dev/stack.ts): the time-skipping server, a fresh database, inflow's real workflows and activities
 * on workers of their own task queue (createInflowWorkers, as createWorker builds them, with the
 * static price table unless `prices`; no outbox relay), and a seeded customer. After every test the
 * ledger's invariants must hold. Read the fields inside tests and hooks (they are set when beforeAll has run).
 */
export function useTimeSkippingStack(label: string, options: { prices?: Record<Mode, PriceSource> } = {}): TimeSkippingStack {
  const stack = { taskQueue: uniqueTaskQueue(label) } as TimeSkippingStack;
  let inflow: InflowStack | undefined;

  beforeAll(async () => {
    // Bundled while the database and the server start.
    const bundle = bundleInflowWorkflows();
    bundle.catch(() => undefined);
    stack.database = await createTestDatabase();
    stack.seeded = await buildCustomer(stack.database.db);
    inflow = await InflowStack.create({
      postgres: { url: stack.database.url, db: stack.database.db },
      migrate: false,
      temporal: { timeSkipping: { executable: timeSkippingLauncher() } },
      env: { TEMPORAL_TASK_QUEUE: stack.taskQueue },
      workers: {
        relay: false,
        build: async ({ connection, client, db }) =>
          createInflowWorkers({
            connection,
            workflowBundle: await bundle,
            activityDeps: {
              db,
              prices: options.prices ?? staticPrices(),
              secretKey: testSecretKey,
              webhookPolicy: developmentWebhookPolicy,
              chains: new Map(),
              temporal: client,
              taskQueue: stack.taskQueue,
            },
          }),
      },
    });
    stack.env = inflow.timeSkipping!;
  });

  afterAll(async () => {
    await inflow?.close();
    await stack.database?.destroy();
  });

  afterEach(async () => {
    expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
  });

  return stack;
}
