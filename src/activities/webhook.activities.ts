import type { Db } from '../db/database';
import { attemptDelivery, markDeliveryFailed, prepareDeliveries, recordAttemptOutcome, requireEvent, type AttemptDeps } from '../webhooks/deliveries';
import type { WebhookActivities } from '../workflows/definitions';

/** How long a legacy attempt (one that answers a bare outcome, so cannot hand its recording back) keeps trying to record. */
const LEGACY_RECORD_TRIES = 5;

export function createWebhookActivities(
  deps: { db: Db; webhookPolicy: AttemptDeps['policy']; secretKey: Buffer } & Omit<AttemptDeps, 'policy' | 'secretKey'>,
): WebhookActivities {
  const { db, webhookPolicy, secretKey } = deps;
  const options = {
    ...(deps.keepsAnswerFrom ? { keepsAnswerFrom: deps.keepsAnswerFrom } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  };
  return {
    async prepareWebhookDeliveries(input) {
      return prepareDeliveries(db, await requireEvent(db, input.eventId));
    },
    async attemptWebhookDelivery({ withStatus, ...input }) {
      const result = await attemptDelivery(db, { policy: webhookPolicy, secretKey, ...options }, input);
      if (withStatus) return result;
      // A workflow of an earlier version takes the bare outcome and has no recording step: try a
      // few more times here, then answer anyway, since failing would POST the attempt again.
      for (let tries = 0; result.unrecorded && tries < LEGACY_RECORD_TRIES; tries++) {
        try {
          await recordAttemptOutcome(db, result.unrecorded);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
      return result.outcome;
    },
    async recordWebhookAttempt(record) {
      await recordAttemptOutcome(db, record);
    },
    async markWebhookDeliveryFailed(input) {
      await markDeliveryFailed(db, input.deliveryId);
    },
  };
}
