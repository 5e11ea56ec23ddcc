/**
 * `npm run worker`: runs inflow's workflows and activities on TEMPORAL_TASK_QUEUE. On SIGTERM or
 * SIGINT the worker stops polling, finishes the tasks it holds, then exits.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type Config } from './config';
import type { Db } from './db/database';
import { createLogger, type Logger } from './logger';
import { StaticPriceSource } from './prices';
import { connectDatabase, connectWorkerConnection, onShutdownSignal, runMain } from './startup';

export interface WorkerDeps {
  config: Config;
  db: Db;
  connection: NativeConnection;
  logger: Logger;
}

export function createWorker({ config, db, connection, logger }: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities({ db, logger, prices: new StaticPriceSource(config.staticPrices), webhookPolicy: config.webhookPolicy }),
    shutdownGraceTime: '30s',
  });
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
    const config = loadConfig(process.env);
    const logger = createLogger(config.logLevel, { process: 'worker' });
    installTemporalRuntime(logger);
    const db = await connectDatabase(config);
    const connection = await connectWorkerConnection(config);
    const worker = await createWorker({ config, db, connection, logger });
    // Stop polling, finish the tasks in hand (up to shutdownGraceTime); run() resolves once drained.
    onShutdownSignal((signal) => {
      logger.info({ signal }, 'worker draining');
      worker.shutdown();
    });
    logger.info({ task_queue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
    await worker.run();
    await connection.close();
    await db.destroy();
    logger.info('worker stopped');
  });
}
