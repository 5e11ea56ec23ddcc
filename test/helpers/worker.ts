import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import type { Db } from '../../src/db/database';
import type { Mode } from '../../src/domain/mode';
import type { PriceSource } from '../../src/prices/price-source';
import { createLogger } from '../../src/logger';
import { developmentWebhookPolicy } from '../../src/webhooks/deliveries';
import { createInflowWorkers, createWorker, startWorkerOutboxRelay, type InflowWorker } from '../../src/worker';
import { staticPrices, testSecretKey, testSecretKeyHex } from '../../dev/fixtures';
import { readTestEnv } from './test-env';

export interface RunningWorker {
  config: Config;
  /** Both workers: the task queue's, and the webhook task queue's. */
  worker: InflowWorker;
  /** Drains and stops the worker. */
  stop(): Promise<void>;
}

/**
 * inflow's own worker (createWorker and its outbox relay, as `npm run worker` runs them) on the
 * run's Temporal dev server, for a test database and task queue; `env` adds settings such as a
 * chain to watch.
 */
export async function startDevServerWorker(deps: {
  databaseUrl: string;
  db: Db;
  connection: NativeConnection;
  temporal: Client;
  taskQueue: string;
  env?: Record<string, string>;
}): Promise<RunningWorker> {
  const config = loadConfig({
    DATABASE_URL: deps.databaseUrl,
    TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
    TEMPORAL_TASK_QUEUE: deps.taskQueue,
    TEMPORAL_NAMESPACE: deps.temporal.options.namespace,
    INFLOW_SECRET_KEY: testSecretKeyHex,
    // Receivers in tests listen on loopback, which a development stack allows.
    INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
    ...deps.env,
  });
  const worker = await createWorker({ config, db: deps.db, connection: deps.connection, temporal: deps.temporal });
  const running = worker.run();
  const relay = startWorkerOutboxRelay({ config, db: deps.db, connection: deps.connection }, createLogger('silent'));
  return {
    config,
    worker,
    stop: async () => {
      await relay.stop();
      worker.shutdown();
      await running;
    },
  };
}

const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** inflow's workflows, bundled once per test file. */
export function bundleInflowWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: silent });
}

/** A worker with inflow's real workflows and activities, for the time-skipping server, and the webhook task queue's beside it (createInflowWorkers, as createWorker builds them). */
export async function startTimeSkippingWorker(deps: {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  bundle: WorkflowBundleWithSourceMap;
  db: Db;
  /** Each mode's prices; the static table unless a test needs a source of its own. */
  prices?: Record<Mode, PriceSource>;
}): Promise<{ stop(): Promise<void> }> {
  const worker = await createInflowWorkers({
    connection: deps.env.nativeConnection,
    workflowBundle: deps.bundle,
    activityDeps: {
      db: deps.db,
      prices: deps.prices ?? staticPrices(),
      secretKey: testSecretKey,
      webhookPolicy: developmentWebhookPolicy,
      chains: new Map(),
      temporal: deps.env.client,
      taskQueue: deps.taskQueue,
    },
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}
