import type { Client } from '@temporalio/client';
import { buildMerchant, testSecretKeyHex } from '../../dev/fixtures';
import { InflowStack } from '../../dev/stack';
import type { Config } from '../../src/config';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { type CreatedMerchant } from '../../src/merchants/merchants.service';
import { testApiClient, testApiDeps, type TestApi, type TestApiOptions } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { uniqueTaskQueue } from './temporal';
import { readTestEnv } from './test-env';

type TestApiDepsOptions = Omit<TestApiOptions, 'db' | 'temporal' | 'port'>;

export interface TestStackOptions {
  /** A database of the test's own, which the stack uses (and leaves); a fresh one unless given. */
  database?: TestDatabase;
  /** The run's dev server namespace (default unless given: files that run a chain watcher have their own, see isolatedNamespaces). */
  namespace?: string;
  /** What the worker reads besides the test defaults: a chain to watch, say. */
  env?: Record<string, string>;
  /** No worker (an API whose task queue nobody polls), or one that starts every configured chain's watcher. */
  worker?: false;
  chainWatchers?: boolean;
  /** The API's dependencies over the test defaults (startTestApi's), given the stack (its config); no API when false. */
  api?: false | TestApiDepsOptions | ((stack: InflowStack) => TestApiDepsOptions);
}

export interface TestStack {
  /** The assembled stack (dev/stack.ts). */
  inflow: InflowStack;
  database: TestDatabase;
  dev: { client: Client };
  worker: { config: Config };
  /** Unset when asked for none. */
  api: TestApi;
  taskQueue: string;
  /** Stops the API, the worker and the connections (the database stays, for the last checks); close() drops the database's pool too. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The gateway for an integration test file, assembled by dev/stack.ts: a fresh database, inflow's
 * own worker (createWorker and its relay) on the run's Temporal dev server (its own task queue),
 * and the real API on a free port, in this process.
 */
export async function startTestStack(label: string, options: TestStackOptions = {}): Promise<TestStack> {
  const taskQueue = uniqueTaskQueue(label);
  const database = options.database ?? (await createTestDatabase());
  let logs: TestApi['logs'] = [];
  const testApi = (stack: InflowStack) => {
    const made = testApiDeps({ taskQueue, ...(typeof options.api === 'function' ? options.api(stack) : options.api) });
    logs = made.logs;
    return made.deps;
  };
  const inflow = await InflowStack.create({
    postgres: { url: database.url, db: database.db },
    migrate: false,
    temporal: { address: readTestEnv('temporalAddress'), namespace: options.namespace },
    env: {
      TEMPORAL_TASK_QUEUE: taskQueue,
      INFLOW_SECRET_KEY: testSecretKeyHex,
      // Receivers in tests listen on loopback, which a development stack allows.
      INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK: 'true',
      ...options.env,
    },
    workers: options.worker === false ? undefined : { chainWatchers: options.chainWatchers },
    api: options.api === false ? undefined : { deps: testApi },
  }).catch(async (error: unknown) => {
    if (!options.database) await database.destroy();
    throw error;
  });
  const stop = () => inflow.close();
  return {
    inflow,
    database,
    dev: { client: inflow.client },
    worker: { config: inflow.config },
    api: options.api === false ? undefined! : testApiClient(inflow.apiUrl, logs, stop),
    taskQueue,
    stop,
    close: () => stop().then(() => database.destroy()),
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
