import type { ListWindow } from '../api/pagination';
import type { Executor, Tenant } from '../db/database';
import type { Deposit, DepositsTable, NewDeposit } from './deposits.table';
import type { Updateable } from 'kysely';

/** Inserts the deposit unless its transfer is already recorded; returns the row either way. */
export async function insertDepositIfAbsent(db: Executor, deposit: NewDeposit): Promise<{ deposit: Deposit; inserted: boolean }> {
  const inserted = await db
    .insertInto('deposits')
    .values(deposit)
    .onConflict((oc) => oc.columns(['livemode', 'network', 'transaction_hash', 'log_index', 'legacy_log_index']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { deposit: inserted, inserted: true };
  const existing = await db
    .selectFrom('deposits')
    .selectAll()
    .where('livemode', '=', deposit.livemode)
    .where('network', '=', deposit.network)
    .where('transaction_hash', '=', deposit.transaction_hash)
    .where('log_index', '=', deposit.log_index)
    .where('legacy_log_index', '=', deposit.legacy_log_index ?? false)
    .executeTakeFirstOrThrow();
  return { deposit: existing, inserted: false };
}

/** The deposit, locked until the caller's transaction ends: transitions are serialised per deposit. */
export async function lockDepositById(db: Executor, id: string): Promise<Deposit | undefined> {
  return db.selectFrom('deposits').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * A confirming deposit's confirmations as the chain watcher counts them between the reports its
 * workflow acts on (reportEffect): only more, only in the block it is recorded in, only while it
 * confirms, so a transition made meanwhile is never written over. The count is what GET
 * /deposits shows; the workflow decides completion from its own reports.
 */
export async function noteConfirmations(db: Executor, id: string, blockHash: string, confirmations: number): Promise<void> {
  await db
    .updateTable('deposits')
    .set({ confirmations, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'confirming')
    .where('block_hash', '=', blockHash)
    .where('confirmations', '<', confirmations)
    .execute();
}

export async function updateDeposit(db: Executor, id: string, patch: Updateable<DepositsTable>): Promise<Deposit> {
  return db
    .updateTable('deposits')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDeposit(db: Executor, tenant: Tenant, id: string): Promise<Deposit | undefined> {
  return db
    .selectFrom('deposits')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

export interface DepositFilters {
  customer_id?: string | undefined;
  status?: string | undefined;
  network?: string | undefined;
  order_id?: string | undefined;
  transaction_hash?: string | undefined;
}

export async function listDeposits(db: Executor, tenant: Tenant, filters: DepositFilters, page: ListWindow): Promise<Deposit[]> {
  let query = db
    .selectFrom('deposits')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (filters.customer_id) query = query.where('customer_id', '=', filters.customer_id);
  if (filters.status) query = query.where('status', '=', filters.status as Deposit['status']);
  if (filters.network) query = query.where('network', '=', filters.network);
  if (filters.order_id) query = query.where('order_id', '=', filters.order_id);
  // Hashes are stored as the chain writes them: lowercase hex (deposits_transaction_idx).
  if (filters.transaction_hash) query = query.where('transaction_hash', '=', filters.transaction_hash.toLowerCase());
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}
