import type { Client } from '@temporalio/client';
import type { EvmAdapter } from '../chains/evm/evm.adapter';
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import type { PriceSource } from '../prices';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { createChainActivities } from './chain.activities';
import { createDepositActivities } from './deposit.activities';
import { createWebhookActivities } from './webhook.activities';

export interface ActivityDeps {
  db: Db;
  logger: Logger;
  prices: PriceSource;
  webhookPolicy: WebhookPolicy;
  /** Chain watching: a node adapter per watched chain, and the client that starts deposit workflows. */
  chains?: Map<string, EvmAdapter>;
  temporal?: Client;
  taskQueue?: string;
}

/**
 * Every activity, built from injected dependencies; workflows see them only as the type
 * `ReturnType<typeof createActivities>` through proxyActivities.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDepositActivities(deps),
    ...createWebhookActivities(deps),
    ...createChainActivities({ db: deps.db, temporal: deps.temporal, taskQueue: deps.taskQueue ?? 'inflow', chains: deps.chains ?? new Map() }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
