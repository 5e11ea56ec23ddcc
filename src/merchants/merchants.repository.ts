import type { Executor } from '../db/database';
import type { Merchant } from './merchants.table';

export async function insertMerchant(db: Executor, merchant: { id: string; name: string }): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}
