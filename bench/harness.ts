/**
 * What the workflow benchmarks share: a throw-away Postgres (migrated), a Temporal dev server, a
 * client, and a worker with inflow's real activities (plus any extra ones) and its outbox relay on
 * `taskQueue`.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../dev/postgres';
import { startTemporalDevServer } from '../dev/temporal';
import { freePort } from '../dev/tools/ports';
import { createActivities } from '../src/activities';
import { createDb, type Db } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startOutboxRelay } from '../src/outbox/relay';
import { migrateToLatest } from '../src/db/migrate';
import { staticPrices, testSecretKey } from '../dev/fixtures';
import { benchLog } from './log';

export interface BenchStack {
  db: Db;
  client: Client;
  stop(): Promise<void>;
}

export async function startBenchStack(options: {
  taskQueue: string;
  workflowsPath: string;
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
}): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [postgres, temporal] = await Promise.all([
    (async () =>
      startEmbeddedPostgres({
        dataDir: await mkdtemp(path.join(os.tmpdir(), 'inflow-bench-pg-')),
        port: await freePort(),
        persistent: false,
        log: benchLog,
      }))(),
    startTemporalDevServer({ log: benchLog }),
  ]);
  const db = createDb(postgres.url('postgres'), { max: 20 });
  await migrateToLatest(db);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: options.taskQueue,
    workflowsPath: options.workflowsPath,
    activities: {
      ...createActivities({
        db,
        prices: staticPrices(),
        secretKey: testSecretKey,
        webhookPolicy: { allowPrivateNetworksInLive: false, allowPrivateNetworksInTest: false },
        chains: new Map(),
        temporal: client,
        taskQueue: options.taskQueue,
      }),
      ...options.extraActivities,
    },
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  const running = worker.run();
  const relay = startOutboxRelay({
    db,
    databaseUrl: postgres.url('postgres'),
    starter: { temporal: new Client({ connection: nativeConnection }), taskQueue: options.taskQueue, eager: true },
    logger: createLogger('warn'),
  });
  return {
    db,
    client,
    stop: async () => {
      await relay.stop();
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await db.destroy();
      await Promise.all([temporal.stop(), postgres.stop()]);
    },
  };
}
