import type { Executor } from '../database';
import type { Merchant } from '../tables/merchants.table';

export async function insertMerchant(db: Executor, merchant: { id: string; name: string }): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}
