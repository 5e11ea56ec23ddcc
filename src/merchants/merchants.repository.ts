import type { Executor } from '../db/database';
import type { Merchant } from './merchants.table';

export async function insertMerchant(db: Executor, merchant: { id: string; name: string }): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}

export async function findMerchantById(db: Executor, id: string): Promise<Merchant | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}
