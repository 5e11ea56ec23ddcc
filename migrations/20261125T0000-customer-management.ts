import { type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Set by DELETE /customers/:id. An archived customer keeps its addresses, and money sent to them
  // is still credited: the watchers look addresses up in customer_addresses, which is left alone.
  await db.schema.alterTable('customers').addColumn('archived_at', 'timestamptz').execute();
  // GET /customers?external_id= and ?email=: exact matches within a merchant's mode, newest first.
  await db.schema.createIndex('customers_external_id_idx').on('customers').columns(['merchant_id', 'livemode', 'external_id', 'id']).execute();
  await db.schema.createIndex('customers_email_idx').on('customers').columns(['merchant_id', 'livemode', 'email', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('customers_email_idx').execute();
  await db.schema.dropIndex('customers_external_id_idx').execute();
  await db.schema.alterTable('customers').dropColumn('archived_at').execute();
}
