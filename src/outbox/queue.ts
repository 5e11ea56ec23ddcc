/**
 * The transactional outbox: what code outside a workflow (the API, mostly) needs started is queued
 * in the same transaction as the rows it will read, so a commit and its workflow start are one
 * atomic fact. A crash after the commit cannot lose the start, and a request never waits for
 * Temporal: the relay in every worker (`relay.ts`) hands the starts over.
 */
import type { Executor } from '../db/database';
import { insertWorkflowStart } from './workflow-outbox.repository';
import {
  depositWorkflowId,
  orderWorkflowId,
  payoutWorkflowId,
  webhookDeliveryWorkflowId,
  type DepositTransfer,
  type OrderWorkflowInput,
  type PayoutWorkflowInput,
  type PreparedDelivery,
  type SimulatedConfirmations,
  type Workflows,
} from '../workflows/definitions';

async function queue<Name extends keyof Workflows>(db: Executor, workflowType: Name, workflowId: string, args: Parameters<Workflows[Name]>): Promise<void> {
  await insertWorkflowStart(db, { workflowType, workflowId, args });
}

/**
 * The first delivery of an event to one destination (events/emitter.ts): the relay makes its first
 * attempt, and starts its workflow on the webhook task queue (webhookTaskQueue) only if that failed.
 */
export function queueDelivery(db: Executor, delivery: PreparedDelivery): Promise<void> {
  return queue(db, 'webhookDeliveryWorkflow', webhookDeliveryWorkflowId(delivery, false), [delivery]);
}

/** A resend: a new, recorded delivery of an event to one endpoint, attempted as a first delivery is. */
export function queueRedelivery(db: Executor, delivery: PreparedDelivery): Promise<void> {
  return queue(db, 'webhookDeliveryWorkflow', webhookDeliveryWorkflowId(delivery, true), [delivery]);
}

/** Test mode: a simulated transfer's deposit workflow, which runs its own simulated confirmations. */
export function queueSimulatedDeposit(db: Executor, transfer: DepositTransfer, simulation: SimulatedConfirmations): Promise<void> {
  return queue(db, 'depositWorkflow', depositWorkflowId(transfer), [{ transfer, simulation }]);
}

/** A new order's workflow: its expiry timer, its settlement and its events. */
export function queueOrderWorkflow(db: Executor, input: OrderWorkflowInput): Promise<void> {
  return queue(db, 'orderWorkflow', orderWorkflowId(input), [input]);
}

/** A new payout's workflow: it signs, sends and follows the payout's transaction. */
export function queuePayoutWorkflow(db: Executor, input: PayoutWorkflowInput): Promise<void> {
  return queue(db, 'payoutWorkflow', payoutWorkflowId(input), [input]);
}
