/** Every workflow the worker registers. Workflow code imports only @temporalio/workflow, types and pure domain code. */
import type { chainWatcherWorkflow } from './chain-watcher.workflow';
import type { Workflows } from './definitions';
import type { depositWorkflow } from './deposit.workflow';
import type { simulatedConfirmationsWorkflow } from './simulated-confirmations.workflow';
import type { orderWorkflow } from './order.workflow';
import type { pruneRequestLogWorkflow, purgeIdempotencyKeysWorkflow } from './maintenance.workflow';
import type { reconcileWorkflow, sweepRunWorkflow, sweepWorkflow } from './treasury.workflow';
import type { payoutWorkflow } from './payout.workflow';
import type { eventDispatchWorkflow, webhookDeliveryWorkflow } from './webhook-delivery.workflow';

export { depositWorkflow } from './deposit.workflow';
export { simulatedConfirmationsWorkflow } from './simulated-confirmations.workflow';
export { eventDispatchWorkflow, webhookDeliveryWorkflow } from './webhook-delivery.workflow';
export { chainWatcherWorkflow } from './chain-watcher.workflow';
export { orderWorkflow } from './order.workflow';
export { pruneRequestLogWorkflow, purgeIdempotencyKeysWorkflow } from './maintenance.workflow';
export { reconcileWorkflow, sweepRunWorkflow, sweepWorkflow } from './treasury.workflow';
export { payoutWorkflow } from './payout.workflow';

/** Fails to compile when a registered workflow no longer has the signature clients start it with (definitions.ts). */
export type RegisteredWorkflows = Registered<{
  depositWorkflow: typeof depositWorkflow;
  simulatedConfirmationsWorkflow: typeof simulatedConfirmationsWorkflow;
  webhookDeliveryWorkflow: typeof webhookDeliveryWorkflow;
  eventDispatchWorkflow: typeof eventDispatchWorkflow;
  chainWatcherWorkflow: typeof chainWatcherWorkflow;
  orderWorkflow: typeof orderWorkflow;
  purgeIdempotencyKeysWorkflow: typeof purgeIdempotencyKeysWorkflow;
  pruneRequestLogWorkflow: typeof pruneRequestLogWorkflow;
  sweepRunWorkflow: typeof sweepRunWorkflow;
  sweepWorkflow: typeof sweepWorkflow;
  reconcileWorkflow: typeof reconcileWorkflow;
  payoutWorkflow: typeof payoutWorkflow;
}>;
type Registered<T extends Workflows & Record<Exclude<keyof T, keyof Workflows>, never>> = T;
