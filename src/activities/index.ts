import type { WatchedChainAdapter } from '../chains/chain-adapter';
import type { Db } from '../db/database';
import type { Mode } from '../domain/mode';
import type { PriceSource } from '../prices/price-source';
import type { WebhookPolicy } from '../webhooks/deliveries';
import type { WorkflowStarter } from '../workflows/client';
import type { Activities } from '../workflows/definitions';
import { createChainActivities } from './chain.activities';
import { createDepositActivities } from './deposit.activities';
import { createMaintenanceActivities } from './maintenance.activities';
import { createOrderActivities } from './order.activities';
import { createTreasuryActivities } from './treasury.activities';
import { createWebhookActivities } from './webhook.activities';
import type { TreasuryDeps } from '../treasury/sweeps.service';
import type { OperatorWebhook } from '../events/operator-events';

export interface ActivityDeps extends WorkflowStarter {
  db: Db;
  /** Each mode's USD prices (fees, fiat): on-chain feeds where configured, else the static table. */
  prices: Record<Mode, PriceSource>;
  webhookPolicy: WebhookPolicy;
  /** INFLOW_SECRET_KEY, which opens the sealed API keys order callbacks are signed with. */
  secretKey: Buffer;
  /** A node adapter per watched chain (by chainKey); empty when no chain is watched. */
  chains: Map<string, WatchedChainAdapter>;
  /** INFLOW_REQUEST_LOG_RETENTION_DAYS: the request log's prune deletes older rows (30 unless given). */
  requestLogRetentionDays?: number | undefined;
  /** The signer and the nodes (EVM and Tron) sweeps send on; without them, treasury work fails as not configured and nothing else changes. */
  treasury?: Omit<TreasuryDeps, 'db'> | undefined;
  /** INFLOW_OPERATOR_WEBHOOK_URL and _SECRET: where operator events go; undefined, they are only listed. */
  operatorWebhook?: OperatorWebhook | undefined;
}

/**
 * Every activity, built from injected dependencies; workflows see them only through the
 * `Activities` contract in workflows/definitions.ts.
 */
export function createActivities(deps: ActivityDeps): Activities {
  return {
    ...createDepositActivities(deps),
    ...createWebhookActivities(deps),
    ...createChainActivities(deps),
    ...createOrderActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createTreasuryActivities(
      { db: deps.db, signer: deps.treasury?.signer, chainOf: deps.treasury?.chainOf ?? (() => undefined), prices: deps.prices },
      deps.operatorWebhook,
    ),
  };
}
