/**
 * One event to one endpoint: a signed POST at once, then again on the Standard Webhooks schedule
 * (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 20 h, 24 h, with jitter) until a 2xx, a 410
 * (which disables the endpoint), the endpoint being disabled or deleted, or about three days.
 * The outbox relay makes the first attempt itself and starts this workflow only when it failed
 * (outbox/relay.ts), with its result: most deliveries succeed at once and never start a workflow.
 * Every attempt is recorded, timed by this workflow's clock: by the attempt itself, or, when the
 * database would not take the record in time, by a recordWebhookAttempt step of its own.
 *
 * Deliveries run on the webhook task queue (webhookTaskQueue), apart from deposit and order steps.
 * Attempts run as local activities: the worker that holds the workflow task makes the POST and
 * completes the task with its result, a handful of history events instead of an activity task's
 * round trip through the server. Durability is the same: a worker lost mid-attempt leaves the task
 * to time out, and another worker makes the attempt again.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { delayBeforeAttempt, retryDelaysMs } from '../domain/webhook-schedule';
import {
  webhookDeliveryWorkflowId,
  webhookTaskQueue,
  type Activities,
  type AttemptOutcome,
  type AttemptResult,
  type DeliveryResult,
  type DeliveryWorkflowInput,
  type EmittedEvent,
  type EventDispatchInput,
  type PreparedDelivery,
} from './definitions';
import { deliveryDetails, dispatchDetails, startMetadata } from './metadata';
import { activityRetry, patches } from './versions';

const attemptOptions = {
  // An attempt is database reads, a DNS lookup of its destination (INFLOW_DNS_TIMEOUT_MS, 5 s at
  // most), the POST (15 s at most) and its record. It keeps to this timeout on its own clock
  // (attemptDelivery's deadline): a timeout would retry it, and a retry after the POST sends it again.
  startToCloseTimeout: '45 seconds',
  retry: activityRetry,
} as const;
const activities = proxyActivities<Activities>(attemptOptions);
const localActivities = proxyLocalActivities<Activities>(attemptOptions);

export async function webhookDeliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryResult> {
  const { firstAttempt, ...delivery } = input;
  // The Web UI's one line: "deposit.completed evt_… → we_… — attempt 3 failed (HTTP 503), next in 5m (at …)".
  // Decided once, from the first workflow task, so a replay takes the path its history took throughout.
  const attempts = patched(patches.webhookAttemptsAsLocalActivities) ? localActivities : activities;
  let last: AttemptResult | undefined;
  for (let attempt = 0; attempt < retryDelaysMs.length; attempt++) {
    if (attempt === 0 && firstAttempt) {
      // Made by the outbox relay before it started this workflow.
      last = firstAttempt;
    } else {
      if (attempt > 0) {
        const delayMs = delayBeforeAttempt(attempt, Math.random());
        setCurrentDetails(deliveryDetails(delivery, { failedAttempt: attempt, result: last!, nextAt: Date.now() + delayMs, nextInMs: delayMs }));
        await sleep(delayMs, { summary: `before attempt ${attempt + 1}` });
      }
      setCurrentDetails(deliveryDetails(delivery, { sending: attempt + 1 }));
      last = resultOf(
        await attempts.attemptWebhookDelivery({ deliveryId: delivery.deliveryId, attemptNumber: attempt + 1, attemptedAt: Date.now(), withStatus: true }),
      );
    }
    // The POST was made but the database would not take its record: a step of its own records it,
    // retried as long as it takes, so that failure never sends the POST again. (Only results of
    // this version carry `unrecorded`; the patch marks the runs that took this step.)
    if (last.unrecorded && patched(patches.webhookAttemptRecordedApart)) await attempts.recordWebhookAttempt(last.unrecorded);
    if (last.outcome !== 'retry') {
      setCurrentDetails(deliveryDetails(delivery, { finalAttempt: attempt + 1, result: last }));
      return last.outcome;
    }
  }
  await attempts.markWebhookDeliveryFailed({ deliveryId: delivery.deliveryId });
  setCurrentDetails(deliveryDetails(delivery, { gaveUpAfter: retryDelaysMs.length, result: last! }));
  return 'failed';
}

/**
 * An attempt's result as recorded in history. A bare outcome ('retry') comes from a delivery that
 * was retrying when results began to carry the status code (replayed from its history), or from an
 * attempt an older worker ran during a rolling upgrade; read as results, both keep the path taken.
 */
function resultOf(recorded: AttemptResult | AttemptOutcome): AttemptResult {
  return typeof recorded === 'string' ? { outcome: recorded, statusCode: null, error: null } : recorded;
}

/**
 * Starts the deliveries a transition's result lists, each as a child workflow that outlives its
 * parent (a completed deposit must not cut its webhooks' retries short). Results list none now
 * (the outbox relay attempts them, EmittedEvent): this runs for histories recorded before that,
 * and for an earlier inflow's results without deliveries, which are recorded here, as they were
 * then. Idempotent: the children's ids are fixed by the event and the destination.
 */
export async function startDeliveries(emitted: EmittedEvent): Promise<PreparedDelivery[]> {
  if (!emitted.eventId) return [];
  const deliveries = emitted.deliveries ?? (await activities.prepareWebhookDeliveries({ eventId: emitted.eventId }));
  // One after the other, as earlier versions did: started together, they would be commands a
  // history those versions recorded (one child start per workflow task) does not hold.
  for (const delivery of deliveries) await startDelivery(delivery);
  return deliveries;
}

async function startDelivery(delivery: PreparedDelivery): Promise<void> {
  try {
    await startChild(webhookDeliveryWorkflow, {
      workflowId: webhookDeliveryWorkflowId(delivery, false),
      ...(patched(patches.webhookDeliveriesOnTheirOwnQueue) ? { taskQueue: webhookTaskQueue(workflowInfo().taskQueue) } : {}),
      args: [delivery],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      ...startMetadata('webhookDeliveryWorkflow', [delivery]),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Delivers an event the API wrote, from an outbox row an earlier inflow queued: the API now
 * records the deliveries and queues their workflows itself. Kept for rows and runs in flight
 * across an upgrade.
 */
export async function eventDispatchWorkflow(input: EventDispatchInput): Promise<void> {
  if (!input.eventId) throw ApplicationFailure.nonRetryable(`${workflowInfo().workflowId}: no event id`);
  setCurrentDetails(dispatchDetails(input, undefined));
  setCurrentDetails(dispatchDetails(input, await startDeliveries({ eventId: input.eventId })));
}
