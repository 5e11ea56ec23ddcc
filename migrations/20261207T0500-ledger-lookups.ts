import { sql, type Kysely } from 'kysely';

/**
 * `GET /balance/transactions` (and its export) read a tenant's ledger transactions newest first by
 * id, a page at a time after a cursor: an index keyed (merchant_id, livemode, id) serves each page
 * as a range scan, as deposits_list_idx does for deposits. It replaces ledger_transactions_merchant_idx
 * (merchant_id, livemode), its prefix, which the balance summary's scan uses the new one for.
 * The `deposit_id` filter is served by ledger_transactions_deposit_kind_key (deposit_id first).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index ledger_transactions_list_idx on ledger_transactions (merchant_id, livemode, id)`.execute(db);
  await db.schema.dropIndex('ledger_transactions_merchant_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('ledger_transactions_merchant_idx').on('ledger_transactions').columns(['merchant_id', 'livemode']).execute();
  await db.schema.dropIndex('ledger_transactions_list_idx').execute();
}
