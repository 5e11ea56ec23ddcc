import type { Db } from '../db/database';
import { attemptDelivery, markDeliveryFailed, prepareDeliveries, type AttemptOutcome, type PreparedDelivery, type WebhookPolicy } from '../webhooks/deliveries';

export function createWebhookActivities(deps: { db: Db; webhookPolicy: WebhookPolicy }) {
  const { db, webhookPolicy } = deps;
  return {
    async prepareWebhookDeliveries(input: { eventId: string }): Promise<PreparedDelivery[]> {
      return prepareDeliveries(db, input.eventId);
    },
    /** One POST; HTTP failures are an outcome, not an error (only database trouble is retried here). */
    async attemptWebhookDelivery(input: { deliveryId: string; attemptNumber: number; attemptedAt: number }): Promise<AttemptOutcome> {
      return attemptDelivery(db, webhookPolicy, input);
    },
    async markWebhookDeliveryFailed(input: { deliveryId: string }): Promise<void> {
      await markDeliveryFailed(db, input.deliveryId);
    },
  };
}
