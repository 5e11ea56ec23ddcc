import type { Executor } from '../db/database';
import type { Mode } from '../domain/mode';
import type { Merchant, MerchantUpdate } from './merchants.table';

export async function insertMerchant(db: Executor, merchant: { id: string; name: string }): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}

export async function findMerchantById(db: Executor, id: string): Promise<Merchant | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** What the payment page shows of a merchant: the name it goes by there, and whether it has a logo (its bytes are read only when asked for). */
export async function findMerchantBranding(db: Executor, id: string): Promise<{ displayName: string; hasLogo: boolean } | undefined> {
  const row = await db
    .selectFrom('merchants')
    .select((eb) => ['name', 'display_name', eb('logo', 'is not', null).as('has_logo')])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && { displayName: row.display_name ?? row.name, hasLogo: Boolean(row.has_logo) };
}

export async function findMerchantLogo(db: Executor, id: string): Promise<{ bytes: Buffer; type: string } | undefined> {
  const row = await db.selectFrom('merchants').select(['logo', 'logo_type']).where('id', '=', id).executeTakeFirst();
  return row?.logo && row.logo_type ? { bytes: row.logo, type: row.logo_type } : undefined;
}

/** The merchant's own daily payout limit in a mode, in USD cents; null: the operator's for every merchant. Undefined: no such merchant. */
export async function setPayoutDailyLimit(db: Executor, id: string, mode: Mode, usdCents: bigint | null): Promise<Merchant | undefined> {
  return db
    .updateTable('merchants')
    .set(mode === 'live' ? { payout_daily_limit_usd_cents_live: usdCents } : { payout_daily_limit_usd_cents_test: usdCents })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function updateMerchant(db: Executor, id: string, update: MerchantUpdate): Promise<Merchant> {
  return db.updateTable('merchants').set(update).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}
