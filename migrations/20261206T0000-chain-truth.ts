import { sql, type Kysely } from 'kysely';

/**
 * The chain as the only truth for a deposit's identity and its bookings:
 *
 * - `deposits.legacy_log_index`: EVM token deposits recorded until now were numbered by their
 *   place among the *configured* tokens' transfers of their transaction, which a configuration
 *   change shifts. New ones are numbered by their log's place in the transaction's receipt. The
 *   old rows keep their number (and so their workflow id), marked, and are found again by what
 *   they pay, never by number; the transfer key includes the mark, so an old number can never
 *   hide a new transfer.
 * - `deposits.inclusion` and `ledger_transactions.inclusion`: a deposit failed or reversed by a
 *   reorg whose transaction the chain mines again is re-opened; each inclusion books at most one
 *   deposit and one reversal, so the unique booking key gains the inclusion.
 * - `deposits.block_time` and `chain_cursors.last_block_time`: orders judge a payment by its
 *   block's time on the chain, and settle as expired only once their chain's watcher has scanned
 *   a block made after the deadline.
 * - `deposits.status` `dust`: a transfer to a customer below its currency's dust threshold,
 *   recorded and nothing more.
 * - `chain_cursors.nodes`: how each of a chain's nodes looked in the watcher's last round (ok,
 *   lagging, down, or outvoted on a block hash), for `/healthz`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deposits').addColumn('legacy_log_index', 'boolean', (col) => col.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('deposits').addColumn('inclusion', 'integer', (col) => col.notNull().defaultTo(0)).execute();
  // Tron has always numbered token transfers among all of a transaction's logs; native transfers have no log.
  await sql`update deposits set legacy_log_index = true where network <> 'tron' and log_index >= 0 and not simulated`.execute(db);
  await db.schema.dropIndex('deposits_transfer_key').execute();
  await db.schema
    .createIndex('deposits_transfer_key')
    .on('deposits')
    .columns(['livemode', 'network', 'transaction_hash', 'log_index', 'legacy_log_index'])
    .unique()
    .execute();

  await db.schema.alterTable('deposits').addColumn('block_time', 'timestamptz').execute();
  await sql`alter table deposits drop constraint deposits_status_check`.execute(db);
  await sql`alter table deposits add constraint deposits_status_check check (status in ('detected', 'confirming', 'completed', 'failed', 'dust'))`.execute(db);
  await db.schema.alterTable('chain_cursors').addColumn('last_block_time', 'timestamptz').execute();
  await db.schema.alterTable('chain_cursors').addColumn('nodes', 'jsonb').execute();

  await db.schema.alterTable('ledger_transactions').addColumn('inclusion', 'integer', (col) => col.notNull().defaultTo(0)).execute();
  await db.schema.dropIndex('ledger_transactions_deposit_kind_key').execute();
  await db.schema
    .createIndex('ledger_transactions_deposit_kind_key')
    .on('ledger_transactions')
    .columns(['deposit_id', 'kind', 'inclusion'])
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('chain_cursors').dropColumn('nodes').execute();
  await db.schema.alterTable('chain_cursors').dropColumn('last_block_time').execute();
  await db.schema.alterTable('deposits').dropColumn('block_time').execute();
  await sql`delete from deposits where status = 'dust'`.execute(db);
  await sql`alter table deposits drop constraint deposits_status_check`.execute(db);
  await sql`alter table deposits add constraint deposits_status_check check (status in ('detected', 'confirming', 'completed', 'failed'))`.execute(db);
  await db.schema.dropIndex('ledger_transactions_deposit_kind_key').execute();
  await db.schema.createIndex('ledger_transactions_deposit_kind_key').on('ledger_transactions').columns(['deposit_id', 'kind']).unique().execute();
  await db.schema.alterTable('ledger_transactions').dropColumn('inclusion').execute();
  await db.schema.dropIndex('deposits_transfer_key').execute();
  await db.schema.createIndex('deposits_transfer_key').on('deposits').columns(['livemode', 'network', 'transaction_hash', 'log_index']).unique().execute();
  await db.schema.alterTable('deposits').dropColumn('inclusion').execute();
  await db.schema.alterTable('deposits').dropColumn('legacy_log_index').execute();
}
