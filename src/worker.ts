/**
 * `npm run worker`: runs inflow's workflows and activities on TEMPORAL_TASK_QUEUE, and the outbox
 * relay that starts the workflows the API queued. On SIGTERM or SIGINT it stops relaying, stops
 * polling, finishes the tasks it holds, then exits.
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { createChainAdapters } from './chains/adapters';
import { loadConfig, requireSecretKey, type Config } from './config';
import type { Db } from './db/database';
import { createLogger, type Logger } from './logger';
import { startOutboxRelay, type OutboxRelay } from './outbox/relay';
import { createPriceSources, describePriceSources } from './prices/sources';
import { connectDatabase, connectTemporalClient, connectWorkerConnection, onShutdownSignal, runMain, StartupError } from './startup';
import { ensureMaintenanceSchedules, searchAttributeProblems, startChainWatcher } from './workflows/client';

export interface WorkerDeps {
  config: Config;
  db: Db;
  connection: NativeConnection;
  /** The client chain scans start deposit workflows with. */
  temporal: Client;
  /** Where a chain node's failures and disagreements are said. */
  logger?: Logger;
}

/**
 * How much one worker takes on at once. Delivery attempts and deposit steps are local activities
 * that hold their workflow task while they run (a POST may wait up to 15 s), and an eager start
 * needs a free workflow-task slot or it falls back to the task queue: so more workflow-task slots
 * than the SDK's 40. The same settings run in the benchmarks (bench/bench-worker.ts).
 */
export const workerConcurrency = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  maxConcurrentActivityTaskExecutions: 100,
} as const;

export function createWorker({ config, db, connection, temporal, logger }: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.temporal.workerIdentity ? { identity: config.temporal.workerIdentity } : {}),
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities({
      db,
      prices: createPriceSources(config),
      webhookPolicy: config.webhookPolicy,
      secretKey: requireSecretKey(config),
      chains: createChainAdapters(config, (message, fields) => logger?.warn(fields, message)),
      temporal,
      taskQueue: config.temporal.taskQueue,
    }),
    ...workerConcurrency,
    shutdownGraceTime: '30s',
  });
}

/**
 * The relay of this worker's outbox: workflow starts queued in `db` go to its task queue, started
 * eagerly over the worker's own connection, so this worker runs each one's first task at once.
 */
export function startWorkerOutboxRelay({ config, db, connection }: Omit<WorkerDeps, 'temporal'>, logger: Logger): OutboxRelay {
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  return startOutboxRelay({ db, databaseUrl: config.databaseUrl, starter: { temporal, taskQueue: config.temporal.taskQueue, eager: true }, logger });
}

/** Starts the watcher of every configured chain that is not running yet (one per chain, by its id). */
export async function startChainWatchers(temporal: Client, config: Config, logger: Logger): Promise<void> {
  for (const chain of config.chains) {
    const started = await startChainWatcher(
      { temporal, taskQueue: config.temporal.taskQueue },
      { network: chain.network, livemode: chain.livemode, pollIntervalMs: chain.pollMs },
    );
    if (started) logger.info({ network: chain.network, livemode: chain.livemode }, 'chain watcher started');
  }
}

/**
 * Installs Temporal's runtime once, before anything else touches it: the SDK's own logs (worker
 * state, bundling, failures) go through our JSON logger from WARN up (its INFO lines include a
 * full webpack report), and signals are left to our entry points, which stop things in order.
 */
export function installTemporalRuntime(logger: Logger): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      logger[method]({ sdk: 'temporal', ...meta }, message);
    }),
  });
}

if (require.main === module) {
  runMain(async () => {
    const config = loadConfig(process.env, ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'INFLOW_SECRET_KEY']);
    const logger = createLogger(config.logLevel, { process: 'worker' });
    for (const { line, warn } of describePriceSources(config)) logger[warn ? 'warn' : 'info'](line);
    installTemporalRuntime(logger);
    const db = await connectDatabase(config);
    const connection = await connectWorkerConnection(config);
    const temporal = await connectTemporalClient(config);
    const problems = await searchAttributeProblems(temporal, config.temporal.namespace);
    if (problems.length > 0) {
      throw new StartupError(
        `inflow: namespace ${config.temporal.namespace}'s search attributes do not match this version: ${problems.join('; ')}. Register them as docs/operations.md shows (deploy/temporal/setup-namespace.sh does it).`,
      );
    }
    // What the configured nodes cannot show (native coin sent by contracts without call tracing, say), once at start.
    for (const [chain, { adapter }] of createChainAdapters(config)) for (const limitation of adapter.limitations()) logger.warn({ chain }, limitation);
    const worker = await createWorker({ config, db, connection, temporal, logger });
    const relay = startWorkerOutboxRelay({ config, db, connection }, logger);
    await startChainWatchers(temporal, config, logger);
    if (await ensureMaintenanceSchedules({ temporal, taskQueue: config.temporal.taskQueue })) logger.info('maintenance schedules created');
    // Stop relaying and polling, finish the tasks in hand (up to shutdownGraceTime); run() resolves once drained.
    onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'worker draining');
      await relay.stop();
      worker.shutdown();
    });
    logger.info({ task_queue: config.temporal.taskQueue, namespace: config.temporal.namespace, identity: worker.options.identity }, 'worker started');
    await worker.run();
    await temporal.connection.close();
    await connection.close();
    await db.destroy();
    logger.info('worker stopped');
  });
}
