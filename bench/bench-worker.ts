/**
 * The worker every workflow benchmark runs, in this process or in worker-process.ts: inflow's real
 * activities (static prices, no chains) plus the baseline's no-op, on the benchmark's task queue,
 * and beside it the outbox relay, as every inflow worker runs one.
 */
import { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { staticPrices, testSecretKey } from '../dev/fixtures';
import { createActivities } from '../src/activities';
import type { Db } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startOutboxRelay, type OutboxRelay } from '../src/outbox/relay';
import { workerConcurrency } from '../src/worker';

export function createBenchWorker(options: {
  connection: NativeConnection;
  db: Db;
  client: Client;
  taskQueue: string;
  workflowsPath: string;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    taskQueue: options.taskQueue,
    workflowsPath: options.workflowsPath,
    activities: {
      ...createActivities({
        db: options.db,
        prices: staticPrices(),
        secretKey: testSecretKey,
        webhookPolicy: { allowPrivateNetworksInLive: false, allowPrivateNetworksInTest: false },
        chains: new Map(),
        temporal: options.client,
        taskQueue: options.taskQueue,
      }),
      // The baseline workflow's activity (bench/workflows): the cost of an activity doing nothing.
      noop: async () => undefined,
    },
    ...workerConcurrency,
  });
}

/** The relay of a bench worker, as src/worker.ts runs it: eager starts over the worker's own connection. */
export function startBenchRelay(options: { connection: NativeConnection; db: Db; databaseUrl: string; taskQueue: string }): OutboxRelay {
  return startOutboxRelay({
    db: options.db,
    databaseUrl: options.databaseUrl,
    starter: { temporal: new Client({ connection: options.connection }), taskQueue: options.taskQueue, eager: true },
    logger: createLogger('warn'),
  });
}
