/**
 * One benchmark worker as an OS process of its own (its own event loop and core, as a production
 * worker has), started by dev/stack.ts when a benchmark asks for worker processes. It reads the
 * environment `npm run worker` reads (DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE) and
 * BENCH_WORKFLOWS_PATH, says "worker started" once polling, as `npm run worker` does, and drains
 * and exits on SIGTERM.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startWorkerOutboxRelay } from '../src/worker';
import { createBenchWorker } from './bench-worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const workflowsPath = process.env.BENCH_WORKFLOWS_PATH;
  if (!workflowsPath) throw new Error('worker-process: BENCH_WORKFLOWS_PATH is not set (the harness sets it)');
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const db = createDb(config.databaseUrl, { max: 20 });
  const connection = await Connection.connect({ address: config.temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createBenchWorker({
    connection: nativeConnection,
    db,
    client: new Client({ connection }),
    taskQueue: config.temporal.taskQueue,
    workflowsPath,
  });
  const running = worker.run();
  const relay = startWorkerOutboxRelay({ config, db, connection: nativeConnection }, worker, createLogger('warn'));
  process.once('SIGTERM', () => void relay.stop().then(() => worker.shutdown()));
  console.log('worker started');
  await running;
  await nativeConnection.close();
  await connection.close();
  await db.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
