/**
 * What the workflow benchmarks share: a throw-away Postgres for inflow (migrated), a Temporal of
 * the engine asked for, a client, a worker with inflow's real activities on `taskQueue` (in this
 * process, or as separate worker processes), and the outbox relay.
 *
 * `server` gives Temporal an embedded Postgres cluster of its own, beside inflow's: in production
 * they are usually separate databases, and one cluster shared by both would mix Temporal's
 * persistence writes with inflow's in one set of processes, hiding which of the two the time
 * (and the CPU, see cpu.ts) goes to.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startEmbeddedPostgres, type RunningPostgres } from '../dev/postgres';
import { startTemporalDevServer, type RunningTemporal } from '../dev/temporal';
import { startTemporalServer } from '../dev/temporal-server';
import { freePort } from '../dev/tools/ports';
import { createDb, type Db } from '../src/db/database';
import { migrateToLatest } from '../src/db/migrate';
import { confirmationSignal, depositWorkflowId, type DepositTransfer, type Workflows } from '../src/workflows/definitions';
import { createBenchWorker, startBenchRelay } from './bench-worker';
import type { Part } from './cpu';
import { benchLog } from './log';
import type { Engine } from './measure';

let runtimeInstalled = false;

/** Temporal's runtime is process-wide and installed once, whichever engine comes first. */
export function installBenchRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/** A throw-away Postgres cluster in a temp directory whose name says whose it is (cpu.ts tells clusters apart by it). */
async function startBenchPostgres(owner: 'inflow' | 'temporal'): Promise<{ postgres: RunningPostgres; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `inflow-bench-${owner}-pg-`));
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false, log: benchLog });
  return { postgres, dataDir };
}

/** A Postgres cluster's processes: the postmaster's command line names its data directory. */
function postgresPart(name: string, dataDir: string): Part {
  return { name, matches: ({ commandLine }) => commandLine.includes(dataDir) };
}

export interface BenchTemporal {
  address: string;
  /** Its processes, for CPU attribution: the server, and for `server` its Postgres. */
  parts: Part[];
  stop(): Promise<void>;
}

/** The engine asked for, started and ready, with inflow's search attributes on its default namespace. */
export async function startBenchTemporal(engine: Engine): Promise<BenchTemporal> {
  const started = performance.now();
  benchLog(`Temporal ${engine}: starting`);
  // The dev server is the `temporal` CLI, the real one `temporal-server`: told apart from the rest by the executable's name.
  const server: Part = { name: 'Temporal', matches: ({ commandLine }) => path.basename(commandLine.split(' ')[0]!).startsWith('temporal') };
  let result: BenchTemporal;
  if (engine === 'dev') {
    const temporal = await startTemporalDevServer({ log: benchLog });
    result = { address: temporal.address, parts: [server], stop: () => temporal.stop() };
  } else {
    const { postgres, dataDir } = await startBenchPostgres('temporal');
    let temporal: RunningTemporal;
    try {
      // It creates the namespace with inflow's search attributes, as the dev server does.
      temporal = await startTemporalServer({ log: benchLog, postgres });
    } catch (error) {
      await postgres.stop();
      throw error;
    }
    result = {
      address: temporal.address,
      parts: [postgresPart("Temporal's Postgres", dataDir), server],
      stop: async () => {
        await temporal.stop();
        await postgres.stop();
      },
    };
  }
  benchLog(`Temporal ${engine}: ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

export interface BenchStack {
  db: Db;
  client: Client;
  /** The queue its worker(s) poll. */
  taskQueue: string;
  /** Every process of the stack, for cpu.ts: worker processes, Postgres clusters, Temporal. */
  parts: Part[];
  stop(): Promise<void>;
}

export async function startBenchStack(options: {
  engine: Engine;
  taskQueue: string;
  workflowsPath: string;
  /** Run the worker as this many separate processes (worker-process.ts) instead of in this process. */
  workerProcesses?: number;
}): Promise<BenchStack> {
  installBenchRuntime();
  const [started, startedTemporal] = await Promise.allSettled([startBenchPostgres('inflow'), startBenchTemporal(options.engine)]);
  if (started.status === 'rejected' || startedTemporal.status === 'rejected') {
    // Stop whichever half did start, so a failed engine leaves nothing running behind it.
    if (started.status === 'fulfilled') await started.value.postgres.stop();
    if (startedTemporal.status === 'fulfilled') await startedTemporal.value.stop();
    throw started.status === 'rejected' ? started.reason : (startedTemporal as PromiseRejectedResult).reason;
  }
  const { postgres, dataDir } = started.value;
  const temporal = startedTemporal.value;
  const db = createDb(postgres.url('postgres'), { max: 20 });
  await migrateToLatest(db);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const workers = options.workerProcesses
    ? await startWorkerProcesses(options.workerProcesses, {
        BENCH_DATABASE_URL: postgres.url('postgres'),
        BENCH_TEMPORAL_ADDRESS: temporal.address,
        BENCH_TASK_QUEUE: options.taskQueue,
        BENCH_WORKFLOWS_PATH: options.workflowsPath,
      })
    : await startWorkerInProcess({
        address: temporal.address,
        databaseUrl: postgres.url('postgres'),
        client,
        taskQueue: options.taskQueue,
        workflowsPath: options.workflowsPath,
      });
  return {
    db,
    client,
    taskQueue: options.taskQueue,
    parts: [...workers.parts, postgresPart("inflow's Postgres", dataDir), ...temporal.parts],
    stop: async () => {
      await workers.stop();
      await connection.close();
      await db.destroy();
      await Promise.all([temporal.stop(), postgres.stop()]);
    },
  };
}

/** A stack started for `use` alone, and stopped after it whatever it did. */
export async function withBenchStack<T>(options: Parameters<typeof startBenchStack>[0], use: (stack: BenchStack) => Promise<T>): Promise<T> {
  const stack = await startBenchStack(options);
  try {
    return await use(stack);
  } finally {
    await stack.stop();
  }
}

interface RunningWorkers {
  parts: Part[];
  stop(): Promise<void>;
}

/**
 * The worker and its relay in this process, with a pool of their own as a worker process has: the
 * benchmark's load (its commits) must not queue for the connections the deliveries need.
 */
async function startWorkerInProcess(options: {
  address: string;
  databaseUrl: string;
  client: Client;
  taskQueue: string;
  workflowsPath: string;
}): Promise<RunningWorkers> {
  const connection = await NativeConnection.connect({ address: options.address });
  const db = createDb(options.databaseUrl, { max: 20 });
  const worker = await createBenchWorker({ connection, db, ...options });
  const running = worker.run();
  const relay = startBenchRelay({ connection, db, ...options });
  return {
    parts: [], // its CPU is this process's
    stop: async () => {
      await relay.stop();
      worker.shutdown();
      await running;
      await connection.close();
      await db.destroy();
    },
  };
}

/** `count` worker processes, each its own Node (tsx loaded in it, so its pid is the worker's), ready when this resolves. */
async function startWorkerProcesses(count: number, env: Record<string, string>): Promise<RunningWorkers> {
  const children: ChildProcess[] = [];
  const exited = new Map<ChildProcess, Promise<void>>();
  try {
    for (let i = 0; i < count; i++) {
      const child = fork(require.resolve('./worker-process'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: 'inherit' });
      children.push(child);
      exited.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
      await new Promise<void>((resolve, reject) => {
        child.once('message', (message) => (message === 'ready' ? resolve() : reject(new Error(`worker process said ${String(message)}`))));
        child.once('exit', (code) => reject(new Error(`worker process ${i + 1} exited (${code}) before it was ready`)));
      });
    }
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  benchLog(`${count} worker process${count > 1 ? 'es' : ''} ready (pids ${children.map((child) => child.pid).join(', ')})`);
  return {
    parts: children.map((child, i) => ({ name: `worker ${i + 1}`, matches: ({ pid }) => pid === child.pid })),
    stop: async () => {
      for (const child of children) child.send('stop');
      await Promise.all(children.map((child) => exited.get(child)));
    },
  };
}

/** Confirmation reports a deposit needs in these benchmarks: Ethereum's 12. */
export const CONFIRMATIONS = 12;

/**
 * A deposit workflow started directly rather than through workflows/client.ts, for one
 * benchmark-only input: no reversal window, so the workflow ends at completion and its result
 * marks "completed".
 */
export async function startBenchDeposit(client: Client, taskQueue: string, transfer: DepositTransfer): Promise<string> {
  const workflowId = depositWorkflowId(transfer);
  await client.workflow.start<Workflows['depositWorkflow']>('depositWorkflow', { taskQueue, workflowId, args: [{ transfer, reversalWindow: 0 }] });
  return workflowId;
}

/** Confirms a deposit (or the baseline) as fast as a watcher could: CONFIRMATIONS reports in a row, then its end. */
export async function confirmAsWatcher(client: Client, workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  for (let confirmations = 1; confirmations <= CONFIRMATIONS; confirmations++) {
    await handle.signal(confirmationSignal, { confirmations, blockHash: '0xbench', canonical: true });
  }
  await handle.result();
}

/** How many events a workflow's history holds. */
export async function historyLength(client: Client, workflowId: string): Promise<number> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;
}
