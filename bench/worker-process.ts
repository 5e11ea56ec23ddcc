/**
 * One benchmark worker as an OS process of its own (its own event loop and core, as a production
 * worker has), spawned by the harness when a benchmark asks for worker processes. It reads where
 * to connect from its environment, says "ready" over IPC once polling, and drains and exits on
 * "stop".
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDb } from '../src/db/database';
import { createBenchWorker, startBenchRelay } from './bench-worker';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`worker-process: ${name} is not set (the harness sets it)`);
    return value;
  };
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const db = createDb(env('BENCH_DATABASE_URL'), { max: 20 });
  const connection = await Connection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') });
  const nativeConnection = await NativeConnection.connect({ address: env('BENCH_TEMPORAL_ADDRESS') });
  const worker = await createBenchWorker({
    connection: nativeConnection,
    db,
    client: new Client({ connection }),
    taskQueue: env('BENCH_TASK_QUEUE'),
    workflowsPath: env('BENCH_WORKFLOWS_PATH'),
  });
  const running = worker.run();
  const relay = startBenchRelay({ connection: nativeConnection, db, databaseUrl: env('BENCH_DATABASE_URL'), taskQueue: env('BENCH_TASK_QUEUE') });
  process.on('message', (message) => {
    if (message === 'stop') void relay.stop().then(() => worker.shutdown());
  });
  process.send!('ready');
  await running;
  await nativeConnection.close();
  await connection.close();
  await db.destroy();
  process.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
