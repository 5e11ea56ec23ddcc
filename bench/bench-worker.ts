/**
 * The worker every workflow benchmark runs, in this process or in worker-process.ts: inflow's real
 * activities (static prices, no chains) plus the baseline's no-op, on the benchmark's task queue,
 * and the webhook task queue's worker (beside them, the outbox relay of src/worker.ts, as every
 * inflow worker runs one).
 */
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Runtime, type NativeConnection } from '@temporalio/worker';
import { staticPrices, testSecretKey } from '../dev/fixtures';
import type { Db } from '../src/db/database';
import { developmentWebhookPolicy } from '../src/webhooks/deliveries';
import { createInflowWorkers, type InflowWorker } from '../src/worker';

export async function createBenchWorker(options: {
  connection: NativeConnection;
  db: Db;
  client: Client;
  taskQueue: string;
  workflowsPath: string;
}): Promise<InflowWorker> {
  // Both workers, their slots and deliveries on their own task queue, as src/worker.ts runs them.
  return createInflowWorkers({
    connection: options.connection,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: options.workflowsPath, logger: Runtime.instance().logger }),
    activityDeps: {
      db: options.db,
      prices: staticPrices(),
      secretKey: testSecretKey,
      webhookPolicy: developmentWebhookPolicy,
      chains: new Map(),
      temporal: options.client,
      taskQueue: options.taskQueue,
    },
    // The baseline workflow's activity (bench/workflows): the cost of an activity doing nothing.
    extraActivities: { noop: async () => undefined },
  });
}
