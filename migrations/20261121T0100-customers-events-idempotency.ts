import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One global sequence: a customer's index picks its HD child in every family, so addresses are
  // unique across merchants and modes by construction (and by the unique index below).
  await sql`create sequence customer_address_index_seq minvalue 0 start 0 maxvalue 2147483647`.execute(db);

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('email', 'text')
    .addColumn('name', 'text')
    .addColumn('external_id', 'text')
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('address_index', 'integer', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('customers_list_idx').on('customers').columns(['merchant_id', 'livemode', 'id']).execute();

  await db.schema
    .createTable('customer_addresses')
    .addColumn('customer_id', 'text', (col) => col.notNull().references('customers.id'))
    .addColumn('family', 'text', (col) => col.notNull().check(sql`family in ('evm', 'tron')`))
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addPrimaryKeyConstraint('customer_addresses_pkey', ['customer_id', 'family'])
    .execute();
  // Deposit detection looks recipients up by address; EVM addresses are stored EIP-55 checksummed.
  await db.schema.createIndex('customer_addresses_address_key').on('customer_addresses').columns(['family', 'address']).unique().execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('events_list_idx').on('events').columns(['merchant_id', 'livemode', 'id']).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    // SHA-256 of method, path and parameters: the same key with another request is a 409.
    .addColumn('request_fingerprint', 'text', (col) => col.notNull())
    .addColumn('response_status', 'integer', (col) => col.notNull())
    // The exact bytes first sent (jsonb would reorder keys): a replay is byte-for-byte the same.
    .addColumn('response_body', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['merchant_id', 'livemode', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('customer_addresses').execute();
  await db.schema.dropTable('customers').execute();
  await sql`drop sequence customer_address_index_seq`.execute(db);
}
