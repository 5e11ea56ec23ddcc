import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildCustomer, type BuiltCustomer } from '../../dev/fixtures';
import { ledgerInvariantViolations } from '../../src/db/repositories/ledger.repository';
import type { Mode } from '../../src/domain/mode';
import type { PriceSource } from '../../src/prices/price-source';
import { createTestDatabase, type TestDatabase } from './database';
import { createTimeSkippingEnv, uniqueTaskQueue } from './temporal';
import { bundleInflowWorkflows, startTimeSkippingWorker } from './worker';

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  taskQueue: string;
  /** A merchant with one test-mode customer. */
  seeded: BuiltCustomer;
}

/**
 * What a workflow test file needs, set up once in beforeAll and torn down in afterAll: the
 * time-skipping server, a fresh database, inflow's real workflows and activities on a worker of
 * their own task queue, and a seeded customer. After every test the ledger's invariants must hold.
 * Read the fields inside tests and hooks (they are set when beforeAll has run).
 */
export function useTimeSkippingStack(label: string, options: { prices?: Record<Mode, PriceSource> } = {}): TimeSkippingStack {
  const stack = { taskQueue: uniqueTaskQueue(label) } as TimeSkippingStack;
  let bundle: WorkflowBundleWithSourceMap;
  let worker: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    [stack.env, stack.database, bundle] = await Promise.all([createTimeSkippingEnv(), createTestDatabase(), bundleInflowWorkflows()]);
    stack.seeded = await buildCustomer(stack.database.db);
    worker = await startTimeSkippingWorker({ env: stack.env, taskQueue: stack.taskQueue, bundle, db: stack.database.db, ...options });
  });

  afterAll(async () => {
    await worker?.stop();
    await stack.env?.teardown();
    await stack.database?.destroy();
  });

  afterEach(async () => {
    expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
  });

  return stack;
}
