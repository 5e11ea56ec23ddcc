/**
 * Every workflow start and signal from outside a workflow (the outbox relay, activities, the
 * worker), so ids, task queues and "already started is fine" live in one place. The API starts
 * nothing itself: it queues starts in its transaction (`outbox/queue.ts`). Workflows are named as
 * `definitions.ts` declares them, never imported: this module stays out of the workflow bundle.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../domain/idempotency';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { workflowMetadataQuery } from '@temporalio/workflow';
import {
  activityFailureTypes,
  cancelOrderUpdate,
  chainWatcherWorkflowId,
  confirmationSignal,
  depositWorkflowId,
  orderWorkflowId,
  payoutChangedSignal,
  payoutWorkflowId,
  PRUNE_REQUEST_LOG_SCHEDULE_ID,
  PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID,
  type ChainWatcherInput,
  type ConfirmationReport,
  type DepositTransfer,
  type OrderState,
  searchAttributes,
  reconcileScheduleId,
  sweepScheduleId,
  type SweepRunInput,
  type SweepRunResult,
  type Workflows,
} from './definitions';
import { startMetadata } from './metadata';
import { modeOf } from '../domain/mode';
import type { Network } from '../domain/networks';

/** Where workflows run: the client to reach Temporal and the task queue inflow's workers poll. */
export interface WorkflowStarter {
  temporal: Client;
  taskQueue: string;
  /**
   * Ask the server to hand each workflow's first task straight back to the worker in this process
   * (eager start), skipping the task queue: only when `temporal` runs over that worker's own
   * NativeConnection, which the SDK requires.
   */
  eager?: boolean;
}

/**
 * Starts a workflow; resolves false instead of failing when its id is taken, which for inflow's
 * business ids means the same work was started before (a retried request, a restarted worker, a
 * relay that handed a start over twice). A business id runs once, even after its first run closed
 * (`REJECT_DUPLICATE`); only the chain watchers may run again under their id (`ALLOW_DUPLICATE`),
 * so a watcher an operator terminated comes back with the next worker. Every start carries the
 * search attributes and summary the Web UI lists it by (metadata.ts).
 */
export async function startWorkflowOnce<Name extends keyof Workflows>(
  { temporal, taskQueue, eager }: WorkflowStarter,
  name: Name,
  workflowId: string,
  args: Parameters<Workflows[Name]>,
  workflowIdReusePolicy: WorkflowIdReusePolicy = WorkflowIdReusePolicy.REJECT_DUPLICATE,
): Promise<boolean> {
  try {
    await temporal.workflow.start<Workflows[Name]>(name, {
      taskQueue,
      workflowId,
      args,
      workflowIdReusePolicy,
      ...(eager ? { requestEagerStart: true } : {}),
      ...startMetadata(name, args),
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}

/**
 * A transfer found on-chain: starts its deposit workflow with the first report, or reports to the
 * running one. Every report to a deposit that is not final goes this way, so a deposit whose
 * workflow ended early (terminated by an operator, say) is picked up again rather than stranded.
 * `reincluded`: the transfer of a deposit a reorg failed is back on the chain (a new run re-opens it).
 */
export async function reportDetectedTransfer(
  starter: WorkflowStarter,
  transfer: DepositTransfer,
  report: ConfirmationReport,
  options: { reincluded?: boolean } = {},
): Promise<void> {
  const input = { transfer, ...(options.reincluded ? { reincluded: true } : {}) };
  await starter.temporal.workflow.signalWithStart<Workflows['depositWorkflow'], [ConfirmationReport]>('depositWorkflow', {
    taskQueue: starter.taskQueue,
    workflowId: depositWorkflowId(transfer),
    args: [input],
    signal: confirmationSignal,
    signalArgs: [report],
    ...startMetadata('depositWorkflow', [input]),
  });
}

/** Reports a deposit's block to its workflow; false when the workflow has finished and nothing listens. */
export async function reportConfirmations(
  temporal: Client,
  deposit: { livemode: boolean; network: string; transactionHash: string; logIndex: number },
  report: ConfirmationReport,
): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(depositWorkflowId(deposit)).signal(confirmationSignal, report);
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** Starts a chain's watcher unless it runs already; true when this call started it. */
export async function startChainWatcher(starter: WorkflowStarter, input: ChainWatcherInput): Promise<boolean> {
  return startWorkflowOnce(starter, 'chainWatcherWorkflow', chainWatcherWorkflowId(input), [input], WorkflowIdReusePolicy.ALLOW_DUPLICATE);
}

/**
 * Creates inflow's maintenance Schedules unless they exist (every worker calls it at start): the
 * hourly purge of expired Idempotency-Keys and the hourly prune of the request log. Schedules live
 * in Temporal, so however many workers run, each job runs once per interval, and an operator sees
 * and controls it in the Web UI. True when this call created one (a deployment that had the first
 * gets the second at its next worker start).
 */
export async function ensureMaintenanceSchedules(starter: WorkflowStarter): Promise<boolean> {
  const purge = await createScheduleOnce(() =>
    starter.temporal.schedule.create<Workflows['purgeIdempotencyKeysWorkflow']>({
      scheduleId: PURGE_IDEMPOTENCY_KEYS_SCHEDULE_ID,
      spec: { intervals: [{ every: '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'purgeIdempotencyKeysWorkflow',
        taskQueue: starter.taskQueue,
        args: [{ olderThanHours: IDEMPOTENCY_KEY_TTL_HOURS }],
        ...startMetadata('purgeIdempotencyKeysWorkflow', [{ olderThanHours: IDEMPOTENCY_KEY_TTL_HOURS }]),
      },
      // A run missed while every worker was down is made up once, not once per missed hour.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    }),
  );
  const prune = await createScheduleOnce(() =>
    starter.temporal.schedule.create<Workflows['pruneRequestLogWorkflow']>({
      scheduleId: PRUNE_REQUEST_LOG_SCHEDULE_ID,
      spec: { intervals: [{ every: '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'pruneRequestLogWorkflow',
        taskQueue: starter.taskQueue,
        args: [{}],
        ...startMetadata('pruneRequestLogWorkflow', [{}]),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    }),
  );
  return purge || prune;
}

/**
 * Per watched chain (network and mode, EVM and Tron), a sweep Schedule every `intervalMinutes(network)` and a daily
 * reconciliation; returns the ids it created (those that existed are left as the operator may have
 * paused or changed them).
 */
export async function ensureTreasurySchedules(
  starter: WorkflowStarter,
  chains: ReadonlyArray<{ network: Network; livemode: boolean; family: string }>,
  intervalMinutes: (network: Network) => number,
): Promise<string[]> {
  const created: string[] = [];
  for (const chain of chains) {
    const input: SweepRunInput = { livemode: chain.livemode, network: chain.network };
    const scheduleId = sweepScheduleId(input);
    const made = await createScheduleOnce(() =>
      starter.temporal.schedule.create<Workflows['sweepRunWorkflow']>({
        scheduleId,
        spec: { intervals: [{ every: `${intervalMinutes(chain.network)} minutes` }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'sweepRunWorkflow',
          taskQueue: starter.taskQueue,
          args: [input],
          ...startMetadata('sweepRunWorkflow', [input]),
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      }),
    );
    if (made) created.push(scheduleId);
    const reconcileId = reconcileScheduleId(input);
    const reconciling = await createScheduleOnce(() =>
      starter.temporal.schedule.create<Workflows['reconcileWorkflow']>({
        scheduleId: reconcileId,
        spec: { intervals: [{ every: '1 day' }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'reconcileWorkflow',
          taskQueue: starter.taskQueue,
          args: [input],
          ...startMetadata('reconcileWorkflow', [input]),
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      }),
    );
    if (reconciling) created.push(reconcileId);
  }
  return created;
}

/** Starts a sweep run of a network in a mode now (`npm run cli -- sweep --now`) and resolves with its result. */
export async function runSweepsNow(starter: WorkflowStarter, input: SweepRunInput): Promise<SweepRunResult> {
  return starter.temporal.workflow.execute<Workflows['sweepRunWorkflow']>('sweepRunWorkflow', {
    workflowId: `sweep-run:${modeOf(input.livemode)}:${input.network}:${Date.now()}`,
    taskQueue: starter.taskQueue,
    args: [input],
    ...startMetadata('sweepRunWorkflow', [input]),
  });
}

/** Runs a Schedule's create; false when it exists already. */
async function createScheduleOnce(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return false;
    throw error;
  }
}

/**
 * Asks the order's workflow to cancel it (an Update: the workflow's verdict is the answer). Resolves
 * to the order's state, or to `{ refused }` with the workflow's reason; `{ closed: true }` when the
 * workflow has ended (the order settled) and nothing can answer; `{ unanswered: true }` when no
 * answer came within 10 s (Temporal or every worker is down: the Update may still be applied).
 */
export async function cancelOrderWorkflow(
  temporal: Client,
  order: { livemode: boolean; orderId: string },
): Promise<{ state: OrderState } | { refused: string } | { closed: true } | { unanswered: true }> {
  try {
    const handle = temporal.workflow.getHandle(orderWorkflowId(order));
    return { state: await temporal.withDeadline(Date.now() + CANCEL_DEADLINE_MS, () => handle.executeUpdate(cancelOrderUpdate)) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { closed: true };
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { unanswered: true };
    const refusal = error instanceof WorkflowUpdateFailedError ? failureOfType(error, activityFailureTypes.orderNotCancelable) : undefined;
    if (refusal) return { refused: refusal.message };
    throw error;
  }
}

const CANCEL_DEADLINE_MS = 10_000;

/**
 * Tells a payout's workflow to look at its row again now (payoutChangedSignal), after the API
 * committed an approval or a cancel. Best effort, within a second: a workflow not started yet, or
 * ended, or a Temporal that does not answer, leaves it to its next re-check. Never throws.
 */
export async function wakePayoutWorkflow(temporal: Client, payout: { livemode: boolean; payoutId: string }): Promise<boolean> {
  try {
    await temporal.withDeadline(Date.now() + WAKE_DEADLINE_MS, () => temporal.workflow.getHandle(payoutWorkflowId(payout)).signal(payoutChangedSignal));
    return true;
  } catch {
    return false;
  }
}

const WAKE_DEADLINE_MS = 1_000;

/** The ApplicationFailure of `type` in an error's cause chain (an activity's failure inside an Update's, say). */
function failureOfType(error: Error, type: string): ApplicationFailure | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.type === type) return cause;
  }
  return undefined;
}

/** What the Web UI shows of one workflow: its status, the summary and details it was started with, and its current details. */
export interface WorkflowOverview {
  workflowId: string;
  workflowType: string;
  /** RUNNING, COMPLETED, FAILED, … */
  status: string;
  staticSummary: string | undefined;
  staticDetails: string | undefined;
  /** What the workflow says it is doing now; undefined when no worker answered within 5 s. */
  currentDetails: string | undefined;
}

/**
 * A workflow as an operator reads it in the Web UI, for scripts and the command line. The current
 * details come from the workflow itself (the `__temporal_workflow_metadata` query, which replays a
 * closed workflow too), so a worker must be running to answer.
 */
export async function describeWorkflow(temporal: Client, workflowId: string): Promise<WorkflowOverview> {
  const handle = temporal.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const currentDetails = await temporal
    .withDeadline(Date.now() + CURRENT_DETAILS_DEADLINE_MS, () => handle.query(workflowMetadataQuery))
    .then((metadata) => metadata.currentDetails || undefined)
    .catch(() => undefined);
  return {
    workflowId,
    workflowType: description.type,
    status: description.status.name,
    staticSummary: await description.staticSummary(),
    staticDetails: await description.staticDetails(),
    currentDetails,
  };
}

const CURRENT_DETAILS_DEADLINE_MS = 5_000;

/**
 * What is wrong with the namespace's search attributes for inflow, in one line each: missing, or
 * registered with another type (Network, Currency and TxHash became KeywordLists). Every start
 * and upsert carrying such an attribute would fail, so the worker refuses to start on them.
 */
export async function searchAttributeProblems(temporal: Client, namespace: string): Promise<string[]> {
  const { keys } = await temporal.connection.operatorService.listSearchAttributes({ namespace }).then(
    (answer) => ({ keys: answer.customAttributes ?? {} }),
    // A server that cannot list them (the time-skipping test server) is not checked.
    () => ({ keys: undefined }),
  );
  if (!keys) return [];
  return Object.values(searchAttributes).flatMap((key) => {
    const wanted = encodeSearchAttributeIndexedValueType(key.type);
    const registered = keys[key.name];
    if (registered === undefined) return [`${key.name} is not registered (want ${key.type})`];
    return registered === wanted ? [] : [`${key.name} is registered with another type (want ${key.type})`];
  });
}
