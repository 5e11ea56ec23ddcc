import { sql, type Kysely } from 'kysely';

/**
 * The treasury (docs/treasury.md): sweeps from deposit addresses, the transactions they send, the
 * nonces of every sending address, and the holdings ledger that says where the money is.
 *
 * - `sweeps`: one per (mode, network, address, currency) sweep; at most one unfinished at a time
 *   (a partial unique index), so two runs of the schedule never sweep the same address at once.
 * - `treasury_transactions_sent`: every transaction a sweep sends (a gas top-up, the sweep itself),
 *   its nonce allocated and recorded before it is signed, its signed bytes recorded before they
 *   are broadcast: a retry after any crash re-sends the same bytes, so nothing is paid twice.
 * - `sending_nonces`: the next nonce of each sending address, taken under a row lock, so two
 *   workflows sending from the gas wallet at once never use the same one.
 * - `holdings_transactions`, `holdings_entries`: a double-entry ledger of the operator's assets, in
 *   base units per network and currency, debit-positive: an asset account's balance is what it holds.
 *   Each transaction is booked once for its source (a deposit's booking, a sweep's transaction).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sweeps')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('decimals', 'integer', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('address_branch', 'text', (col) => col.notNull().check(sql`address_branch in ('customers', 'orders')`))
    .addColumn('address_index', 'integer', (col) => col.notNull())
    .addColumn('merchant_id', 'text', (col) => col.notNull())
    .addColumn('treasury', 'text', (col) => col.notNull())
    .addColumn('amount', sql`numeric(78, 0)`)
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('pending', 'topping_up', 'sending', 'completed', 'skipped', 'failed')`),
    )
    .addColumn('failure_reason', 'text')
    .addColumn('workflow_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await sql`create unique index sweeps_one_open_idx on sweeps (livemode, network, address, currency) where status in ('pending', 'topping_up', 'sending')`.execute(
    db,
  );
  await db.schema.createIndex('sweeps_created_idx').on('sweeps').columns(['livemode', 'id']).execute();

  await db.schema
    .createTable('treasury_transactions_sent')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('sweep_id', 'text', (col) => col.notNull().references('sweeps.id'))
    .addColumn('purpose', 'text', (col) => col.notNull().check(sql`purpose in ('gas_topup', 'sweep')`))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('from_address', 'text', (col) => col.notNull())
    .addColumn('to_address', 'text', (col) => col.notNull())
    .addColumn('nonce', 'bigint', (col) => col.notNull())
    .addColumn('request', 'jsonb', (col) => col.notNull())
    .addColumn('signed_transaction', 'text')
    .addColumn('hash', 'text')
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('allocated', 'signed', 'broadcast', 'confirmed', 'failed')`))
    .addColumn('block_number', 'bigint')
    .addColumn('gas_used', sql`numeric(78, 0)`)
    .addColumn('fee', sql`numeric(78, 0)`)
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // One transaction per purpose per sweep, and a nonce of a sender used once.
  await db.schema.createIndex('treasury_sent_sweep_purpose_key').on('treasury_transactions_sent').columns(['sweep_id', 'purpose']).unique().execute();
  await db.schema
    .createIndex('treasury_sent_nonce_key')
    .on('treasury_transactions_sent')
    .columns(['livemode', 'network', 'from_address', 'nonce'])
    .unique()
    .execute();

  await db.schema
    .createTable('sending_nonces')
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('next_nonce', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('sending_nonces_pkey', ['livemode', 'network', 'address'])
    .execute();

  await db.schema
    .createTable('holdings_transactions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('deposit', 'reversal', 'gas_topup', 'sweep', 'network_fee')`))
    /** What it books: a ledger transaction's id (deposit, reversal) or a sent transaction's (the rest). */
    .addColumn('source_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('holdings_transactions_source_key').on('holdings_transactions').columns(['source_id', 'kind']).unique().execute();
  await db.schema
    .createTable('holdings_entries')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('transaction_id', 'text', (col) => col.notNull().references('holdings_transactions.id'))
    .addColumn('account', 'text', (col) =>
      col.notNull().check(sql`account in ('deposit_addresses', 'gas_wallet', 'treasury', 'network_fees', 'received')`),
    )
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    /** The on-chain address an asset account's entry is at; null for the others. */
    .addColumn('address', 'text')
    .addColumn('amount', sql`numeric(78, 0)`, (col) => col.notNull())
    .execute();
  await db.schema.createIndex('holdings_entries_transaction_idx').on('holdings_entries').column('transaction_id').execute();
  await db.schema.createIndex('holdings_entries_address_idx').on('holdings_entries').columns(['livemode', 'network', 'address', 'currency']).execute();

  // What a reconciliation found the chain and the holdings ledger disagree on, for an operator to list.
  await db.schema
    .createTable('reconciliation_mismatches')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('run_id', 'text', (col) => col.notNull())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('account', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('expected', sql`numeric(78, 0)`, (col) => col.notNull())
    .addColumn('actual', sql`numeric(78, 0)`, (col) => col.notNull())
    .addColumn('found_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('reconciliation_mismatches_found_idx').on('reconciliation_mismatches').columns(['livemode', 'found_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['reconciliation_mismatches', 'holdings_entries', 'holdings_transactions', 'sending_nonces', 'treasury_transactions_sent', 'sweeps']) {
    await db.schema.dropTable(table).execute();
  }
}
