import type { Client } from '@temporalio/client';
import { eventDispatchWorkflowId } from '../../../workflows/definitions';
import type { eventDispatchWorkflow } from '../../../workflows/webhook-delivery.workflow';

/** Starts delivering an event the API wrote (its id makes a second start a no-op). */
export async function startEventDispatch(deps: { temporal: Client; taskQueue: string }, eventId: string): Promise<void> {
  await deps.temporal.workflow.start<typeof eventDispatchWorkflow>('eventDispatchWorkflow', {
    taskQueue: deps.taskQueue,
    workflowId: eventDispatchWorkflowId(eventId),
    args: [{ eventId }],
  });
}
