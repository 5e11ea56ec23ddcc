import { Context } from '@temporalio/activity';
import type { Db } from '../db/database';
import { deliveriesOf } from '../events/emitter';
import { attemptDeadline, attemptDelivery, markDeliveryFailed, recordAttemptOutcome, recordedWithin, type AttemptDeps } from '../webhooks/deliveries';
import type { WebhookActivities } from '../workflows/definitions';
import { withActivityFailures } from './failures';

/** How many times a legacy attempt (one that answers a bare outcome, so cannot hand its recording back) tries to record, time allowing. */
const LEGACY_RECORD_TRIES = 5;

export function createWebhookActivities(
  deps: { db: Db; webhookPolicy: AttemptDeps['policy']; secretKey: Buffer } & Omit<AttemptDeps, 'policy' | 'secretKey'>,
): WebhookActivities {
  const { db, webhookPolicy, secretKey } = deps;
  const options = {
    ...(deps.keepsAnswerFrom ? { keepsAnswerFrom: deps.keepsAnswerFrom } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  };
  return withActivityFailures({
    async prepareWebhookDeliveries(input) {
      return deliveriesOf(db, input.eventId);
    },
    async attemptWebhookDelivery({ withStatus, ...input }) {
      const deadline = attemptDeadline(Date.now(), startToCloseTimeoutMs());
      const result = await attemptDelivery(db, { policy: webhookPolicy, secretKey, ...options }, input, deadline);
      if (withStatus) return result;
      // A workflow of an earlier version takes the bare outcome and has no recording step: try a
      // few more times here, within the deadline, then answer anyway. Failing would POST the
      // attempt again, and so would running past the activity's timeout (it is retried).
      for (let tries = 0; result.unrecorded && tries < LEGACY_RECORD_TRIES && Date.now() < deadline; tries++) {
        if (await recordedWithin(db, result.unrecorded, deadline - Date.now())) break;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(1_000, deadline - Date.now()))));
      }
      return result.outcome;
    },
    async recordWebhookAttempt(record) {
      await recordAttemptOutcome(db, record);
    },
    async markWebhookDeliveryFailed(input) {
      await markDeliveryFailed(db, input.deliveryId);
    },
  });
}

/** This activity's startToCloseTimeout, as its worker was given it; undefined when called outside an activity (tests), where the workflow's is assumed. */
function startToCloseTimeoutMs(): number | undefined {
  let timeoutMs: number | undefined;
  try {
    timeoutMs = Context.current().info.startToCloseTimeoutMs;
  } catch {
    return undefined;
  }
  return timeoutMs > 0 ? timeoutMs : undefined;
}
