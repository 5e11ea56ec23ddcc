/**
 * Every workflow start and signal from outside a workflow (the API, activities, the worker), so
 * ids, task queues and "already started is fine" live in one place. Workflows are named as
 * `definitions.ts` declares them, never imported: this module stays out of the workflow bundle.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  activityFailureTypes,
  cancelOrderUpdate,
  chainWatcherWorkflowId,
  confirmationSignal,
  depositWorkflowId,
  eventDispatchWorkflowId,
  orderWorkflowId,
  simulationWorkflowId,
  webhookDeliveryWorkflowId,
  type ChainWatcherInput,
  type ConfirmationReport,
  type DepositTransfer,
  type OrderState,
  type OrderWorkflowInput,
  type PreparedDelivery,
  type SimulatedConfirmationsInput,
  type Workflows,
} from './definitions';

/** Where workflows run: the client to reach Temporal and the task queue inflow's workers poll. */
export interface WorkflowStarter {
  temporal: Client;
  taskQueue: string;
}

/**
 * Starts a workflow; resolves false instead of failing when its id is taken, which for inflow's
 * business ids means the same work was started before (a retried request, a restarted worker).
 */
async function startOnce<Name extends keyof Workflows>(
  { temporal, taskQueue }: WorkflowStarter,
  name: Name,
  workflowId: string,
  args: Parameters<Workflows[Name]>,
): Promise<boolean> {
  try {
    await temporal.workflow.start<Workflows[Name]>(name, { taskQueue, workflowId, args });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}

/** Test mode: the deposit workflow for a simulated transfer, and the simulator that confirms it. */
export async function startSimulatedDeposit(
  starter: WorkflowStarter,
  transfer: DepositTransfer,
  simulation: Omit<SimulatedConfirmationsInput, 'depositWorkflowId'>,
): Promise<void> {
  const workflowId = depositWorkflowId(transfer);
  await startOnce(starter, 'depositWorkflow', workflowId, [{ transfer }]);
  await startOnce(starter, 'simulatedConfirmationsWorkflow', simulationWorkflowId(workflowId), [{ depositWorkflowId: workflowId, ...simulation }]);
}

/** A transfer found on-chain: starts its deposit workflow with the first report, or reports to the running one. */
export async function reportDetectedTransfer(starter: WorkflowStarter, transfer: DepositTransfer, report: ConfirmationReport): Promise<void> {
  await starter.temporal.workflow.signalWithStart<Workflows['depositWorkflow'], [ConfirmationReport]>('depositWorkflow', {
    taskQueue: starter.taskQueue,
    workflowId: depositWorkflowId(transfer),
    args: [{ transfer }],
    signal: confirmationSignal,
    signalArgs: [report],
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

/** Delivers an event written outside any workflow (its id makes a second start a no-op). */
export async function startEventDispatch(starter: WorkflowStarter, eventId: string): Promise<void> {
  await startOnce(starter, 'eventDispatchWorkflow', eventDispatchWorkflowId(eventId), [{ eventId }]);
}

/** A resend: a new, recorded delivery of an event to one endpoint. */
export async function startRedelivery(starter: WorkflowStarter, delivery: PreparedDelivery): Promise<void> {
  await startOnce(starter, 'webhookDeliveryWorkflow', webhookDeliveryWorkflowId(delivery, true), [delivery]);
}

/** Starts a chain's watcher unless it runs already; true when this call started it. */
export async function startChainWatcher(starter: WorkflowStarter, input: ChainWatcherInput): Promise<boolean> {
  return startOnce(starter, 'chainWatcherWorkflow', chainWatcherWorkflowId(input), [input]);
}

/** A new order's workflow: its expiry timer, its settlement and its events. */
export async function startOrderWorkflow(starter: WorkflowStarter, input: OrderWorkflowInput): Promise<void> {
  await startOnce(starter, 'orderWorkflow', orderWorkflowId(input), [input]);
}

/**
 * Asks the order's workflow to cancel it (an Update: the workflow's verdict is the answer). Resolves
 * to the order's state, or to `{ refused }` with the workflow's reason; `{ closed: true }` when the
 * workflow has ended (the order settled) and nothing can answer.
 */
export async function cancelOrderWorkflow(
  temporal: Client,
  order: { livemode: boolean; orderId: string },
): Promise<{ state: OrderState } | { refused: string } | { closed: true }> {
  try {
    return { state: await temporal.workflow.getHandle(orderWorkflowId(order)).executeUpdate(cancelOrderUpdate) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { closed: true };
    const refusal = error instanceof WorkflowUpdateFailedError ? failureOfType(error, activityFailureTypes.orderNotCancelable) : undefined;
    if (refusal) return { refused: refusal.message };
    throw error;
  }
}

/** The ApplicationFailure of `type` in an error's cause chain (an activity's failure inside an Update's, say). */
function failureOfType(error: Error, type: string): ApplicationFailure | undefined {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.type === type) return cause;
  }
  return undefined;
}
