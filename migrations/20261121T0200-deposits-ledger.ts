import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deposits')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('customer_id', 'text', (col) => col.notNull().references('customers.id'))
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('decimals', 'integer', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('from_address', 'text')
    .addColumn('transaction_hash', 'text', (col) => col.notNull())
    .addColumn('log_index', 'integer', (col) => col.notNull())
    .addColumn('block_number', 'bigint')
    .addColumn('block_hash', 'text')
    .addColumn('amount', sql`numeric(78,0)`, (col) => col.notNull().check(sql`amount >= 0`))
    .addColumn('fee', sql`numeric(78,0)`)
    .addColumn('net_amount', sql`numeric(78,0)`)
    .addColumn('price_usd', 'text')
    .addColumn('amount_usd_cents', sql`numeric(78,0)`)
    .addColumn('fee_usd_cents', sql`numeric(78,0)`)
    .addColumn('confirmations', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('required_confirmations', 'integer', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('detected', 'confirming', 'completed', 'failed')`))
    .addColumn('failure_reason', 'text')
    .addColumn('simulated', 'boolean', (col) => col.notNull())
    .addColumn('reversed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  // One deposit per on-chain transfer and mode, whoever reports it and however often.
  await db.schema
    .createIndex('deposits_transfer_key')
    .on('deposits')
    .columns(['livemode', 'network', 'transaction_hash', 'log_index'])
    .unique()
    .execute();
  await db.schema.createIndex('deposits_list_idx').on('deposits').columns(['merchant_id', 'livemode', 'id']).execute();
  await db.schema.createIndex('deposits_customer_idx').on('deposits').columns(['customer_id']).execute();

  // Double-entry ledger, append-only: one balanced transaction per completion and per reversal.
  await db.schema
    .createTable('ledger_transactions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('deposit_id', 'text', (col) => col.notNull().references('deposits.id'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('deposit', 'reversal')`))
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    // Signed USD figures at the booking's price (negative for a reversal), for the balance summary.
    .addColumn('amount_usd_cents', sql`numeric(78,0)`, (col) => col.notNull())
    .addColumn('fee_usd_cents', sql`numeric(78,0)`, (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // A retried activity can never book the same deposit twice.
  await db.schema.createIndex('ledger_transactions_deposit_kind_key').on('ledger_transactions').columns(['deposit_id', 'kind']).unique().execute();
  await db.schema.createIndex('ledger_transactions_merchant_idx').on('ledger_transactions').columns(['merchant_id', 'livemode']).execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('transaction_id', 'text', (col) => col.notNull().references('ledger_transactions.id'))
    .addColumn('account', 'text', (col) => col.notNull().check(sql`account in ('customer_deposits', 'merchant_balance', 'platform_fees')`))
    .addColumn('merchant_id', 'text', (col) => col.notNull())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    // Signed base units: each transaction's entries sum to zero per currency.
    .addColumn('amount', sql`numeric(78,0)`, (col) => col.notNull())
    .execute();
  await db.schema.createIndex('ledger_entries_transaction_idx').on('ledger_entries').column('transaction_id').execute();
  await db.schema.createIndex('ledger_entries_balance_idx').on('ledger_entries').columns(['merchant_id', 'livemode', 'account']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('ledger_transactions').execute();
  await db.schema.dropTable('deposits').execute();
}
