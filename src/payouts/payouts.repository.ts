import { sql } from 'kysely';
import type { ListWindow } from '../api/pagination';
import type { Executor, Tenant } from '../db/database';
import { cancelableStatuses, inFlightStatuses, type NewPayout, type Payout, type PayoutStatus } from './payouts.table';

export async function insertPayout(db: Executor, payout: NewPayout): Promise<Payout> {
  return db.insertInto('payouts').values(payout).returningAll().executeTakeFirstOrThrow();
}

/** The tenant's payout: another merchant's or mode's is as missing as one that never existed. */
export async function findPayout(db: Executor, tenant: Tenant, id: string): Promise<Payout | undefined> {
  return db
    .selectFrom('payouts')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

export async function findPayoutById(db: Executor, id: string): Promise<Payout | undefined> {
  return db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPayoutByExternalId(db: Executor, tenant: Tenant, externalId: string): Promise<Payout | undefined> {
  return db
    .selectFrom('payouts')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
}

export async function listPayouts(
  db: Executor,
  tenant: Tenant,
  filters: { status?: PayoutStatus | undefined; deposit_id?: string | undefined; external_id?: string | undefined },
  page: ListWindow,
): Promise<Payout[]> {
  let query = db
    .selectFrom('payouts')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.deposit_id) query = query.where('deposit_id', '=', filters.deposit_id);
  if (filters.external_id) query = query.where('external_id', '=', filters.external_id);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

/**
 * Moves the payout from one of `from` to `to` (with the fields given), or does nothing and answers
 * undefined when it is in none of them: every transition is conditional, so a cancel and the
 * workflow's first send can never both win.
 */
export async function transitionPayout(
  db: Executor,
  id: string,
  from: readonly PayoutStatus[],
  to: PayoutStatus,
  fields: Partial<Pick<Payout, 'transaction_hash' | 'failure_reason' | 'broadcast_at' | 'completed_at' | 'approved_by_key_id' | 'approved_at'>> & {
    fee?: bigint;
  } = {},
): Promise<Payout | undefined> {
  return db
    .updateTable('payouts')
    .set({ ...fields, status: to, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
}

/** Cancels the payout if nothing of it was signed yet. */
export function cancelPayoutIfCancelable(db: Executor, id: string): Promise<Payout | undefined> {
  return transitionPayout(db, id, cancelableStatuses, 'canceled', { completed_at: new Date() });
}

/** What refunds of the deposit hold or took: those in flight and those completed. */
export async function refundedOrHeld(db: Executor, depositId: string): Promise<bigint> {
  const { rows } = await sql<{ total: string }>`
    select coalesce(sum(amount), 0)::text as total from payouts
     where deposit_id = ${depositId} and status in (${sql.join([...inFlightStatuses, 'completed'])})`.execute(db);
  return BigInt(rows[0]!.total);
}

/** What the tenant's payouts made since `since` were worth in USD cents, those failed or canceled left out (the daily limit). */
export async function paidOutUsdCentsSince(db: Executor, tenant: Tenant, since: Date): Promise<bigint> {
  const { rows } = await sql<{ total: string }>`
    select coalesce(sum(amount_usd_cents), 0)::text as total from payouts
     where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode} and created_at >= ${since}
       and status not in ('failed', 'canceled')`.execute(db);
  return BigInt(rows[0]!.total);
}
