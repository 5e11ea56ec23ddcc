import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Order addresses are HD children on a branch of their own (…/1/i), numbered by this sequence, so
  // they can never collide with customer addresses (…/0/i).
  await sql`create sequence order_address_index_seq minvalue 0 start 0 maxvalue 2147483647`.execute(db);

  await db.schema
    .createTable('orders')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('external_id', 'text', (col) => col.notNull())
    .addColumn('customer_id', 'text', (col) => col.references('customers.id'))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'completed', 'expired', 'underpaid', 'canceled')`))
    // A payment detected after the order settled: credited as a deposit all the same.
    .addColumn('late', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('decimals', 'integer', (col) => col.notNull())
    .addColumn('family', 'text', (col) => col.notNull().check(sql`family in ('evm', 'tron')`))
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('address_index', 'integer', (col) => col.notNull().unique())
    .addColumn('amount', sql`numeric(78,0)`, (col) => col.notNull().check(sql`amount > 0`))
    // Fiat in cents, and the locked rate (fiat per whole unit of the asset), for orders made in fiat.
    .addColumn('fiat_amount', sql`numeric(78,0)`)
    .addColumn('fiat_currency', 'text')
    .addColumn('exchange_rate', 'text')
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('callback_events', sql`text[]`, (col) => col.notNull())
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addCheckConstraint('orders_fiat_check', sql`(fiat_amount is null) = (fiat_currency is null) and (fiat_amount is null) = (exchange_rate is null)`)
    .execute();
  await db.schema.createIndex('orders_external_id_key').on('orders').columns(['merchant_id', 'livemode', 'external_id']).unique().execute();
  await db.schema.createIndex('orders_address_key').on('orders').columns(['family', 'address']).unique().execute();
  await db.schema.createIndex('orders_list_idx').on('orders').columns(['merchant_id', 'livemode', 'id']).execute();

  // A deposit belongs to a customer, to an order, or to both (an order made for a customer).
  await db.schema.alterTable('deposits').alterColumn('customer_id', (col) => col.dropNotNull()).execute();
  await db.schema.alterTable('deposits').addColumn('order_id', 'text', (col) => col.references('orders.id')).execute();
  await sql`alter table deposits add constraint deposits_owner_check check (customer_id is not null or order_id is not null)`.execute(db);
  await sql`create index deposits_order_idx on deposits (order_id) where order_id is not null`.execute(db);

  // Order callbacks are signed with the merchant's API key, so a copy of each new key is kept
  // sealed (AES-256-GCM under INFLOW_SECRET_KEY); keys made before have none.
  await db.schema.alterTable('api_keys').addColumn('sealed_key', 'text').execute();

  // A delivery goes to a webhook endpoint or to an order's callback URL, with the body signed then.
  await db.schema.alterTable('webhook_deliveries').alterColumn('endpoint_id', (col) => col.dropNotNull()).execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('order_id', 'text', (col) => col.references('orders.id')).execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('body', 'text').execute();
  await sql`alter table webhook_deliveries add constraint webhook_deliveries_target_check check ((endpoint_id is null) <> (order_id is null))`.execute(db);
  await sql`create unique index webhook_deliveries_first_callback_key on webhook_deliveries (event_id, order_id) where not redelivery and order_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index webhook_deliveries_first_callback_key`.execute(db);
  await sql`alter table webhook_deliveries drop constraint webhook_deliveries_target_check`.execute(db);
  await db.schema.alterTable('webhook_deliveries').dropColumn('body').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('order_id').execute();
  await db.schema.alterTable('api_keys').dropColumn('sealed_key').execute();
  await sql`alter table deposits drop constraint deposits_owner_check`.execute(db);
  await db.schema.alterTable('deposits').dropColumn('order_id').execute();
  await db.schema.dropTable('orders').execute();
  await sql`drop sequence order_address_index_seq`.execute(db);
}
