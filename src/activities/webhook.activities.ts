import type { Db } from '../db/database';
import { attemptDelivery, markDeliveryFailed, prepareDeliveries, requireEvent, type WebhookPolicy } from '../webhooks/deliveries';
import type { WebhookActivities } from '../workflows/definitions';

export function createWebhookActivities(deps: { db: Db; webhookPolicy: WebhookPolicy; secretKey: Buffer }): WebhookActivities {
  const { db, webhookPolicy, secretKey } = deps;
  return {
    async prepareWebhookDeliveries(input) {
      return prepareDeliveries(db, await requireEvent(db, input.eventId));
    },
    async attemptWebhookDelivery({ withStatus, ...input }) {
      const result = await attemptDelivery(db, { policy: webhookPolicy, secretKey }, input);
      return withStatus ? result : result.outcome;
    },
    async markWebhookDeliveryFailed(input) {
      await markDeliveryFailed(db, input.deliveryId);
    },
  };
}
