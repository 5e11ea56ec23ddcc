/**
 * `npm run worker`: runs inflow's workflows and activities on TEMPORAL_TASK_QUEUE, webhook
 * deliveries on `<TEMPORAL_TASK_QUEUE>-webhooks` (a second worker, a budget of their own), and
 * the outbox relay that starts the workflows the API queued. On SIGTERM or SIGINT it stops relaying, stops
 * polling, finishes the tasks it holds, then exits.
 */
import { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type State, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { createTreasuryDeps } from './treasury/treasury-deps';
import { createWebhookActivities } from './activities/webhook.activities';
import { createChainAdapters } from './chains/adapters';
import { loadConfig, requireSecretKey, type Config } from './config';
import type { Db } from './db/database';
import { createLogger, type Logger } from './logger';
import { startOutboxRelay, type OutboxRelay } from './outbox/relay';
import type { AttemptDeps } from './webhooks/deliveries';
import { createPriceSources, describePriceSources } from './prices/sources';
import { connectDatabase, connectTemporalClient, connectWorkerConnection, onShutdownSignal, runMain, StartupError } from './startup';
import { ensureMaintenanceSchedules, ensureTreasurySchedules, searchAttributeProblems, startChainWatcher } from './workflows/client';
import { webhookTaskQueue } from './workflows/definitions';
import { configureDns } from './webhooks/ssrf';

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
 * How much one worker takes on at once. Deposit and order steps are local activities that hold
 * their workflow task while they run, and an eager start needs a free workflow-task slot or it
 * falls back to the task queue: so more workflow-task slots than the SDK's 40. The same settings
 * run in the benchmarks (bench/bench-worker.ts).
 */
export const workerConcurrency = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  maxConcurrentActivityTaskExecutions: 100,
} as const;

/**
 * The webhook worker's own budget (its task queue is webhookTaskQueue's): attempts are local
 * activities that may wait 15 s on a receiver that never answers, so a merchant's blackholed
 * endpoints fill these slots, and only these; deposit and order steps keep theirs.
 */
export const webhookWorkerConcurrency = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  maxConcurrentActivityTaskExecutions: 20,
} as const;

/** The two workers of a worker process, run and stopped together. */
export interface InflowWorker {
  /** The task queue's worker: every workflow (deliveries started before they had a queue of their own finish here) and activity. */
  main: Worker;
  /** Polls `<taskQueue>-webhooks`: webhook delivery workflows and their attempts. */
  webhooks: Worker;
  options: Worker['options'];
  /** Runs both until both have stopped; if one fails, the other is stopped and the failure thrown. */
  run(): Promise<void>;
  shutdown(): void;
  /** The worse of the two workers' states (worseState): RUNNING only when both run. */
  getState(): State;
  /** How its webhook attempts are made (policy, secret key): its outbox relay makes first attempts the same way. */
  webhookAttempts: AttemptDeps;
}

export async function createWorker({ config, db, connection, temporal, logger }: WorkerDeps): Promise<InflowWorker> {
  // Bundled once for both workers; logged as the SDK's own logs are (webpack's report is INFO).
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: Runtime.instance().logger });
  return createInflowWorkers({
    connection,
    namespace: config.temporal.namespace,
    ...(config.temporal.workerIdentity ? { identity: config.temporal.workerIdentity } : {}),
    workflowBundle,
    activityDeps: {
      db,
      prices: createPriceSources(config),
      webhookPolicy: config.webhookPolicy,
      secretKey: requireSecretKey(config),
      chains: createChainAdapters(config, (message, fields) => logger?.warn(fields, message)),
      requestLogRetentionDays: config.requestLogRetentionDays,
      treasury: createTreasuryDeps(config),
      operatorWebhook: config.operatorWebhook,
      temporal,
      taskQueue: config.temporal.taskQueue,
    },
    shutdownGraceTime: '30s',
  });
}

/** What a worker process's two workers are made of; createWorker, the benchmarks and the tests build theirs from it. */
export interface InflowWorkersSetup {
  connection: NativeConnection;
  namespace?: string;
  identity?: string;
  workflowBundle: WorkflowBundleOption;
  /** Every activity's dependencies, the task queue (`activityDeps.taskQueue`) and the webhook policy among them. */
  activityDeps: ActivityDeps;
  /** Activities of the main task queue beside inflow's (the benchmarks' baseline no-op). */
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
  /** How long a stopping worker lets its tasks finish (the SDK's default unless given). */
  shutdownGraceTime?: Duration;
}

/**
 * The task queue's worker (every activity, workerConcurrency) and the webhook task queue's
 * (delivery attempts, webhookWorkerConcurrency), from one bundle, as one InflowWorker.
 */
export async function createInflowWorkers(setup: InflowWorkersSetup): Promise<InflowWorker> {
  const { activityDeps } = setup;
  const common = {
    connection: setup.connection,
    ...(setup.namespace !== undefined ? { namespace: setup.namespace } : {}),
    ...(setup.identity !== undefined ? { identity: setup.identity } : {}),
    workflowBundle: setup.workflowBundle,
    ...(setup.shutdownGraceTime !== undefined ? { shutdownGraceTime: setup.shutdownGraceTime } : {}),
  };
  const main = await Worker.create({
    ...common,
    taskQueue: activityDeps.taskQueue,
    activities: { ...createActivities(activityDeps), ...setup.extraActivities },
    ...workerConcurrency,
  });
  const webhooks = await Worker.create({
    ...common,
    taskQueue: webhookTaskQueue(activityDeps.taskQueue),
    activities: createWebhookActivities(activityDeps),
    ...webhookWorkerConcurrency,
  });
  return combinedWorker(main, webhooks, { policy: activityDeps.webhookPolicy, secretKey: activityDeps.secretKey });
}

/**
 * Worker states from best to worst: running, not yet running, then each step of stopping, and
 * failed. The pair's state is the worse of its two: RUNNING only when both run, FAILED when either
 * failed, else the one further from running (a pair with one worker stopped no longer fully runs).
 */
const statesBestFirst: readonly State[] = ['RUNNING', 'INITIALIZED', 'STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'];

export function worseState(a: State, b: State): State {
  return statesBestFirst.indexOf(a) >= statesBestFirst.indexOf(b) ? a : b;
}

/** Two workers as one: run together, stopped together. */
export function combinedWorker(main: Worker, webhooks: Worker, webhookAttempts: AttemptDeps): InflowWorker {
  const shutdown = () => {
    for (const worker of [main, webhooks]) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    main,
    webhooks,
    options: main.options,
    async run() {
      const runs = [main.run(), webhooks.run()].map((running) =>
        running.catch((error: unknown) => {
          shutdown();
          throw error;
        }),
      );
      await Promise.all(runs.map((running) => running.catch(() => undefined)));
      await Promise.all(runs);
    },
    shutdown,
    getState: () => worseState(main.getState(), webhooks.getState()),
    webhookAttempts,
  };
}

/**
 * The relay of this worker's outbox: workflow starts queued in `db` go to its task queue, started
 * eagerly over the worker's own connection, so this worker runs each one's first task at once; the
 * first attempts of webhook deliveries are made as the worker makes attempts (`worker.webhookAttempts`).
 */
export function startWorkerOutboxRelay(
  { config, db, connection }: Omit<WorkerDeps, 'temporal'>,
  worker: Pick<InflowWorker, 'webhookAttempts'>,
  logger: Logger,
): OutboxRelay {
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  return startOutboxRelay({
    db,
    databaseUrl: config.databaseUrl,
    starter: { temporal, taskQueue: config.temporal.taskQueue, eager: true },
    attempts: worker.webhookAttempts,
    logger,
  });
}

/** Starts the watcher of every configured chain that is not running yet (one per chain, by its id). */
/**
 * The Schedules a worker keeps: maintenance always; sweeps and reconciliation only with a signer
 * (without one it says so once, and `/healthz?detail` shows no sweep Schedule).
 */
export async function ensureWorkerSchedules(temporal: Client, config: Config, logger: Logger): Promise<void> {
  if (await ensureMaintenanceSchedules({ temporal, taskQueue: config.temporal.taskQueue })) logger.info('maintenance schedules created');
  if (config.treasury.signer) {
    const { sweepIntervals, sweepIntervalMinutes } = config.treasury;
    const created = await ensureTreasurySchedules(
      { temporal, taskQueue: config.temporal.taskQueue },
      config.chains,
      (network) => sweepIntervals[network] ?? sweepIntervalMinutes,
    );
    if (created.length > 0) logger.info({ schedules: created }, 'treasury schedules created');
  } else {
    logger.warn('no signer configured (INFLOW_SIGNER_SOCKET, INFLOW_SIGNER_SECRET): this worker runs no treasury work (docs/treasury.md)');
  }
}

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
    // Deliveries vet their destinations again before each attempt, through the same nameservers and deadline as the API.
    configureDns(config.dns);
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
    const relay = startWorkerOutboxRelay({ config, db, connection }, worker, logger);
    await startChainWatchers(temporal, config, logger);
    await ensureWorkerSchedules(temporal, config, logger);
    // Stop relaying and polling, finish the tasks in hand (up to shutdownGraceTime); run() resolves once drained.
    onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'worker draining');
      await relay.stop();
      worker.shutdown();
    });
    logger.info(
      {
        task_queue: config.temporal.taskQueue,
        webhook_task_queue: webhookTaskQueue(config.temporal.taskQueue),
        namespace: config.temporal.namespace,
        identity: worker.options.identity,
      },
      'worker started',
    );
    await worker.run();
    await temporal.connection.close();
    await connection.close();
    await db.destroy();
    logger.info('worker stopped');
  });
}
