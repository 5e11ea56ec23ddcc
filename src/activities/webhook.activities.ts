import type { Db } from '../db/database';
import { attemptDelivery, markDeliveryFailed, prepareDeliveries, type WebhookPolicy } from '../webhooks/deliveries';
import type { WebhookActivities } from '../workflows/definitions';

export function createWebhookActivities(deps: { db: Db; webhookPolicy: WebhookPolicy }): WebhookActivities {
  const { db, webhookPolicy } = deps;
  return {
    async prepareWebhookDeliveries(input) {
      return prepareDeliveries(db, input.eventId);
    },
    async attemptWebhookDelivery(input) {
      return attemptDelivery(db, webhookPolicy, input);
    },
    async markWebhookDeliveryFailed(input) {
      await markDeliveryFailed(db, input.deliveryId);
    },
  };
}
