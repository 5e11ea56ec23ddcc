/**
 * What the workflow benchmarks share, assembled by dev/stack.ts: a throw-away Postgres for inflow
 * (migrated), a Temporal of the engine asked for, a client, a worker with inflow's real activities
 * on `taskQueue` (in this process, or as separate worker processes), and the outbox relay.
 *
 * `server` gives Temporal an embedded Postgres cluster of its own, beside inflow's: in production
 * they are usually separate databases, and one cluster shared by both would mix Temporal's
 * persistence writes with inflow's in one set of processes, hiding which of the two the time
 * (and the CPU, see cpu.ts) goes to.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { testMnemonics, testSecretKeyHex } from '../dev/fixtures';
import { ManagedProcess } from '../dev/managed-process';
import { repoRoot } from '../dev/tools/paths';
import { InflowStack, type TemporalOptions } from '../dev/stack';
import type { Db } from '../src/db/database';
import { createLogger } from '../src/logger';
import { confirmationSignal, depositWorkflowId, type DepositTransfer, type Workflows } from '../src/workflows/definitions';
import { createBenchWorker } from './bench-worker';
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

/** The engine's Temporal as the stack starts it: the dev server in memory, or the production server on a Postgres cluster of its own. */
export function benchTemporal(engine: Engine): TemporalOptions {
  return engine === 'dev' ? { devServer: {} } : { server: { postgres: 'own' } };
}

/** The stack's processes, for CPU attribution: its worker processes, its Postgres clusters (by data directory), Temporal (by executable). */
export function benchParts(stack: InflowStack): Part[] {
  const cluster = (name: string, dataDir: string): Part => ({ name, matches: ({ commandLine }) => commandLine.includes(dataDir) });
  return [
    ...stack.workers.filter((worker) => worker.process).map((worker): Part => ({ name: worker.name, matches: ({ pid }) => pid === worker.process!.pid })),
    cluster("inflow's Postgres", path.join(stack.dir!, 'postgres')),
    cluster("Temporal's Postgres", path.join(stack.dir!, 'temporal-postgres')),
    // The dev server is the `temporal` CLI, the real one `temporal-server`: told apart from the rest by the executable's name.
    { name: 'Temporal', matches: ({ commandLine }) => path.basename(commandLine.split(' ')[0]!).startsWith('temporal') },
  ];
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
  const stack: InflowStack = await InflowStack.create({
    log: benchLog,
    label: 'bench',
    pool: 20,
    temporal: benchTemporal(options.engine),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      INFLOW_SECRET_KEY: testSecretKeyHex,
      BENCH_WORKFLOWS_PATH: options.workflowsPath,
    },
    logger: createLogger('warn'),
    workers: options.workerProcesses
      ? {
          count: options.workerProcesses,
          processes: true,
          entry: require.resolve('./worker-process'),
          restart: false,
          onExit: (name, exit) => benchLog(`${name} exited (${exit}):\n${stack.processes.get(name)!.tail()}`),
        }
      : {
          // With a pool of its own, as a worker process has: the benchmark's load (its commits) must
          // not queue for the connections the deliveries need.
          pool: 20,
          build: ({ connection, db, client }) =>
            createBenchWorker({ connection, db, client, taskQueue: options.taskQueue, workflowsPath: options.workflowsPath }),
        },
  });
  return { db: stack.db, client: stack.client, taskQueue: options.taskQueue, parts: benchParts(stack), stop: () => stack.close() };
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

/**
 * The real signer process (`npm run signer`'s entry) as a part of a bench's stack: the test mnemonic
 * in a private temp directory (removed when the stack closes), `settings` (treasuries, tokens) on
 * top. Returns what the worker needs to reach it, for the stack's environment.
 */
export async function startBenchSigner(
  stack: InflowStack,
  secret: string,
  settings: Record<string, string>,
): Promise<{ INFLOW_SIGNER_SOCKET: string; INFLOW_SIGNER_SECRET: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inflow-bench-signer-'));
  const mnemonicFile = path.join(dir, 'test-mnemonic');
  await writeFile(mnemonicFile, `${testMnemonics.test}\n`, { mode: 0o600 });
  const socket = path.join(dir, 'signer.sock');
  await stack.directory();
  await stack.up(
    new ManagedProcess({
      name: 'signer',
      command: path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      args: ['src/signer/main.ts'],
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        INFLOW_SIGNER_SOCKET: socket,
        INFLOW_SIGNER_SECRET: secret,
        INFLOW_SIGNER_AUDIT_LOG: path.join(dir, 'audit.log'),
        INFLOW_SIGNER_MNEMONIC_FILE_TEST: mnemonicFile,
        LOG_LEVEL: 'info',
        ...settings,
      },
      logFile: stack.logFile('signer'),
      ready: async (output) => output.includes('signer started'),
      readyTimeoutMs: 60_000,
      restart: false,
    }),
  );
  stack.onClose('signer directory', () => rm(dir, { recursive: true, force: true }));
  return { INFLOW_SIGNER_SOCKET: socket, INFLOW_SIGNER_SECRET: secret };
}
