import type { Client } from '@temporalio/client';
import { buildMerchant, testSecretKeyHex } from '../../dev/fixtures';
import { InflowStack } from '../../dev/stack';
import type { Config } from '../../src/config';
import { ledgerInvariantViolations } from '../../src/db/repositories/ledger.repository';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { testApiClient, testApiDeps, type TestApi, type TestApiOptions } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { uniqueTaskQueue } from './temporal';
import { readTestEnv } from './test-env';

type TestApiDepsOptions = Omit<TestApiOptions, 'db' | 'temporal' | 'port'>;

export interface TestStackOptions {
  /** The run's dev server namespace (default unless given: files that run a chain watcher have their own, see isolatedNamespaces). */
  namespace?: string;
  /** What the worker reads besides the test defaults: a chain to watch, say. */
  env?: Record<string, string>;
  /** Start every configured chain's watcher once the worker runs. */
  chainWatchers?: boolean;
  /** The API's dependencies over the test defaults (startTestApi's), given the stack (its config); no API when false. */
  api?: false | TestApiDepsOptions | ((stack: InflowStack) => TestApiDepsOptions);
}

export interface TestStack {
  /** The assembled stack (dev/stack.ts): its client, config, worker. */
  inflow: InflowStack;
  database: TestDatabase;
  dev: { client: Client };
  worker: { config: Config };
  /** Undefined when asked for none. */
  api: TestApi;
  taskQueue: string;
  /** Stops the API, the worker and the connections (the database stays, for the last checks). */
  stop(): Promise<void>;
  /** stop(), then drops the database's pool. */
  close(): Promise<void>;
}

/**
 * The gateway for an integration test file, assembled by dev/stack.ts: a fresh database, inflow's
 * own worker (createWorker and its relay) on the run's Temporal dev server (its own task queue),
 * and the real API on a free port, in this process.
 */
export async function startTestStack(label: string, options: TestStackOptions = {}): Promise<TestStack> {
  const taskQueue = uniqueTaskQueue(label);
  const database = await createTestDatabase();
  let api: TestApi | undefined;
  let logs: TestApi['logs'] = [];
  const inflow = await InflowStack.create({
    postgres: { url: database.url, db: database.db },
    migrate: false,
    temporal: { address: readTestEnv('temporalAddress'), ...(options.namespace ? { namespace: options.namespace } : {}) },
    env: {
      TEMPORAL_TASK_QUEUE: taskQueue,
      INFLOW_SECRET_KEY: testSecretKeyHex,
      // Receivers in tests listen on loopback, which a development stack allows.
      INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
      ...options.env,
    },
    workers: { chainWatchers: options.chainWatchers },
    ...(options.api === false
      ? {}
      : {
          api: {
            deps: (stack) => {
              const made = testApiDeps({ taskQueue, ...(typeof options.api === 'function' ? options.api(stack) : options.api) });
              logs = made.logs;
              return made.deps;
            },
          },
        }),
  }).catch(async (error: unknown) => {
    await database.destroy();
    throw error;
  });
  if (options.api !== false) api = testApiClient(inflow.apiUrl, logs, () => inflow.close());
  const stop = () => inflow.close();
  return {
    inflow,
    database,
    dev: { client: inflow.client },
    worker: { config: inflow.config },
    api: api!,
    taskQueue,
    stop,
    close: async () => {
      await stop();
      await database.destroy();
    },
  };
}

export interface ApiStack extends TestStack {
  /** A merchant with a test and a live key. */
  acme: CreatedMerchant;
}

/**
 * startTestStack for a test file, set up in beforeAll and torn down in afterAll, with simulated
 * blocks every 10 ms and a merchant. The ledger's invariants must hold at the end. Read the fields
 * inside tests and hooks.
 */
export function useApiStack(label: string): ApiStack {
  const stack = {} as ApiStack;

  beforeAll(async () => {
    // Blocks every 10 ms instead of every 12 s: the workflow code and timers are the real ones
    // (the dev server fires timers at about one-second granularity, so a deposit takes ~12 s).
    Object.assign(stack, await startTestStack(label, { api: { simulatedBlockTimeMs: 10 } }));
    stack.acme = await buildMerchant(stack.database.db, 'Acme');
  });

  afterAll(async () => {
    await stack.stop?.();
    if (stack.database) expect(await ledgerInvariantViolations(stack.database.db)).toEqual([]);
    await stack.database?.destroy();
  });

  return stack;
}
