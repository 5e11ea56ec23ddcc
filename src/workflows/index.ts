/** Every workflow the worker registers. Workflow code imports only @temporalio/workflow, types and pure domain code. */
export { depositWorkflow } from './deposit.workflow';
export { simulatedConfirmationsWorkflow } from './simulated-confirmations.workflow';
export { eventDispatchWorkflow, webhookDeliveryWorkflow } from './webhook-delivery.workflow';
export { chainWatcherWorkflow } from './chain-watcher.workflow';
