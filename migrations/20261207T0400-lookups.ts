import { sql, type Kysely } from 'kysely';

/**
 * The indexes of the everyday lookups (docs/api.md, "Finding things"):
 * - `GET /customers?search=`: a case-insensitive prefix of the email or the name. `text_pattern_ops`
 *   lets a btree serve `lower(email) like 'ada%'` whatever the database's collation, and the two
 *   indexes are read together (a bitmap OR) for "email or name".
 * - `GET /deposits?transaction_hash=`: the transfer key starts with the network, so a lookup by
 *   hash alone needs its own index.
 * - `GET /events?object_id=`: the object index starts with the type, so a history of all types
 *   needs one keyed by the object first.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index customers_email_prefix_idx on customers (merchant_id, livemode, lower(email) text_pattern_ops)`.execute(db);
  await sql`create index customers_name_prefix_idx on customers (merchant_id, livemode, lower(name) text_pattern_ops)`.execute(db);
  await sql`create index deposits_transaction_idx on deposits (merchant_id, livemode, transaction_hash)`.execute(db);
  await sql`create index events_object_history_idx on events (merchant_id, livemode, (data->>'id'), id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['customers_email_prefix_idx', 'customers_name_prefix_idx', 'deposits_transaction_idx', 'events_object_history_idx']) {
    await db.schema.dropIndex(index).execute();
  }
}
