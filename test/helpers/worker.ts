import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import type { Db } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { createWorker, startWorkerOutboxRelay, type InflowWorker } from '../../src/worker';
import { testSecretKeyHex } from '../../dev/fixtures';
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
