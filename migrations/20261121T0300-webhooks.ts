import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    // Event types, or ['*'] for all.
    .addColumn('events', sql`text[]`, (col) => col.notNull())
    // Needed in clear to sign; shown to the merchant only when made or rotated.
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('disabled', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Deleted endpoints stay, so their deliveries can still be shown under their events.
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('webhook_endpoints_list_idx').on('webhook_endpoints').columns(['merchant_id', 'livemode', 'id']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('event_id', 'text', (col) => col.notNull().references('events.id'))
    .addColumn('endpoint_id', 'text', (col) => col.notNull().references('webhook_endpoints.id'))
    .addColumn('redelivery', 'boolean', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // The first delivery of an event to an endpoint exists once; redeliveries add rows of their own.
  await sql`create unique index webhook_deliveries_first_key on webhook_deliveries (event_id, endpoint_id) where not redelivery`.execute(db);
  await db.schema.createIndex('webhook_deliveries_event_idx').on('webhook_deliveries').column('event_id').execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('delivery_id', 'text', (col) => col.notNull().references('webhook_deliveries.id'))
    .addColumn('attempt_number', 'integer', (col) => col.notNull())
    .addColumn('attempted_at', 'timestamptz', (col) => col.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (col) => col.notNull())
    .addColumn('succeeded', 'boolean', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('response_body', 'text')
    .execute();
  // A retried activity records its attempt once.
  await db.schema.createIndex('webhook_attempts_delivery_number_key').on('webhook_attempts').columns(['delivery_id', 'attempt_number']).unique().execute();
  await db.schema.createIndex('events_type_idx').on('events').columns(['merchant_id', 'livemode', 'type', 'id']).execute();
  // Finds the event a deposit (or any object) emitted, for deliveries retried after a lost result.
  await sql`create index events_object_idx on events (merchant_id, livemode, type, (data->>'id'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_object_idx').execute();
  await db.schema.dropIndex('events_type_idx').execute();
  await db.schema.dropTable('webhook_attempts').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
