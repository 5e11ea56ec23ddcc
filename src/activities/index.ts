import type { Db } from '../db/database';
import type { Logger } from '../logger';
import type { PriceSource } from '../prices';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { createDepositActivities } from './deposit.activities';
import { createWebhookActivities } from './webhook.activities';

export interface ActivityDeps {
  db: Db;
  logger: Logger;
  prices: PriceSource;
  webhookPolicy: WebhookPolicy;
}

/**
 * Every activity, built from injected dependencies; workflows see them only as the type
 * `ReturnType<typeof createActivities>` through proxyActivities.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDepositActivities(deps),
    ...createWebhookActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
