import { sql, type Kysely } from 'kysely';

/**
 * Payouts (docs/payouts.md): a merchant sends part of its balance to an address, or refunds a
 * customer's deposit, from the treasury's hot wallet.
 *
 * - `payouts`: one row per payout, the API's authorisation of its exact terms (`authorization`, a MAC
 *   the signer checks and the worker cannot forge) and its state. A payout in flight
 *   (`requires_approval`, `pending`, `queued`, `sending`, `broadcast`) holds its amount and fee out of the merchant's available
 *   balance; `completed` books them in the ledger; `failed` and `canceled` hold nothing.
 * - `ledger_transactions` books a completed payout (kind `payout`, `payout_id`, no deposit): the
 *   merchant's balance pays the amount (to `payouts_sent`, money that left) and the fee (to
 *   `platform_fees`). At most one per payout (a unique index), so a retried step books it once.
 * - `treasury_transactions_sent` carries a payout's transaction (purpose `payout`) as it carries a
 *   sweep's: nonce and request recorded before signing, signed bytes before broadcast.
 * - the holdings ledger books it (kind `payout`) from the treasury to `paid_out`; what the operator
 *   puts into the treasury by hand (gas for payouts, liquidity) is found by reconciliation and booked
 *   as `treasury_funding`, as the gas wallet's funding is.
 * - `deposits.amount_refunded`: what completed refunds sent back of the deposit.
 * - `operator_events.type` may be `payouts.queued`: payouts wait for the hot wallet to hold enough.
 */
const list = (values: string[]) => sql.join(values.map((value) => sql.lit(value)));

const LEDGER_KINDS = ['deposit', 'reversal'];
const LEDGER_ACCOUNTS = ['customer_deposits', 'merchant_balance', 'platform_fees'];
const PURPOSES = ['gas_topup', 'sweep', 'energy_delegation', 'energy_reclaim'];
const HOLDINGS_KINDS = ['deposit', 'reversal', 'gas_topup', 'sweep', 'network_fee', 'energy_delegation', 'energy_reclaim', 'gas_funding'];
const HOLDINGS_ACCOUNTS = ['deposit_addresses', 'gas_wallet', 'treasury', 'network_fees', 'received', 'funding'];

async function constrain(
  db: Kysely<any>,
  checks: { ledgerKinds: string[]; ledgerAccounts: string[]; purposes: string[]; holdingsKinds: string[]; holdingsAccounts: string[] },
): Promise<void> {
  const replace = async (table: string, constraint: string, column: string, values: string[]) => {
    await sql`alter table ${sql.table(table)} drop constraint ${sql.ref(constraint)}`.execute(db);
    await sql`alter table ${sql.table(table)} add constraint ${sql.ref(constraint)} check (${sql.ref(column)} in (${list(values)}))`.execute(db);
  };
  await replace('ledger_transactions', 'ledger_transactions_kind_check', 'kind', checks.ledgerKinds);
  await replace('ledger_entries', 'ledger_entries_account_check', 'account', checks.ledgerAccounts);
  await replace('treasury_transactions_sent', 'treasury_transactions_sent_purpose_check', 'purpose', checks.purposes);
  await replace('holdings_transactions', 'holdings_transactions_kind_check', 'kind', checks.holdingsKinds);
  await replace('holdings_entries', 'holdings_entries_account_check', 'account', checks.holdingsAccounts);
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull().references('merchants.id'))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('decimals', 'integer', (col) => col.notNull())
    .addColumn('amount', sql`numeric(78, 0)`, (col) => col.notNull().check(sql`amount > 0`))
    .addColumn('fee', sql`numeric(78, 0)`, (col) => col.notNull().check(sql`fee >= 0`))
    .addColumn('destination', 'text', (col) => col.notNull())
    .addColumn('external_id', 'text')
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    /** A refund's deposit: the payout sends (part of) it back to the customer. */
    .addColumn('deposit_id', 'text', (col) => col.references('deposits.id'))
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('requires_approval', 'pending', 'queued', 'sending', 'broadcast', 'completed', 'failed', 'canceled')`),
    )
    /** What the amount was worth when it was made: the daily limit and the approval threshold are in USD. */
    .addColumn('amount_usd_cents', sql`numeric(78, 0)`, (col) => col.notNull())
    /** The key that made it, and the other key that approved it when it needed approval. */
    .addColumn('created_by_key_id', 'text', (col) => col.notNull())
    .addColumn('approved_by_key_id', 'text')
    .addColumn('approved_at', 'timestamptz')
    .addColumn('authorization', 'text', (col) => col.notNull())
    .addColumn('transaction_hash', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('workflow_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('broadcast_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('payouts_merchant_idx').on('payouts').columns(['merchant_id', 'livemode', 'id']).execute();
  await sql`create unique index payouts_external_id_key on payouts (merchant_id, livemode, external_id) where external_id is not null`.execute(db);
  // What the merchant's holds and a deposit's refunds are summed from.
  await sql`create index payouts_in_flight_idx on payouts (merchant_id, livemode, network, currency) where status in ('requires_approval', 'pending', 'queued', 'sending', 'broadcast')`.execute(
    db,
  );
  await sql`create index payouts_deposit_idx on payouts (deposit_id) where deposit_id is not null`.execute(db);
  // The daily limit sums what the merchant's payouts of the last day were worth.
  await db.schema.createIndex('payouts_merchant_created_idx').on('payouts').columns(['merchant_id', 'livemode', 'created_at']).execute();

  // What completed refunds sent back of a deposit, kept on it as it is shown (booked with the refund, once).
  await db.schema
    .alterTable('deposits')
    .addColumn('amount_refunded', sql`numeric(78, 0)`, (col) => col.notNull().defaultTo(0))
    .execute();

  await sql`alter table ledger_transactions alter column deposit_id drop not null`.execute(db);
  await db.schema
    .alterTable('ledger_transactions')
    .addColumn('payout_id', 'text', (col) => col.references('payouts.id'))
    .execute();
  await sql`alter table ledger_transactions add constraint ledger_transactions_source_check check ((deposit_id is null) <> (payout_id is null))`.execute(db);
  await sql`create unique index ledger_transactions_payout_kind_key on ledger_transactions (payout_id, kind) where payout_id is not null`.execute(db);

  await sql`alter table treasury_transactions_sent alter column sweep_id drop not null`.execute(db);
  await db.schema
    .alterTable('treasury_transactions_sent')
    .addColumn('payout_id', 'text', (col) => col.references('payouts.id'))
    .execute();
  await sql`alter table treasury_transactions_sent add constraint treasury_transactions_sent_owner_check check ((sweep_id is null) <> (payout_id is null))`.execute(
    db,
  );
  await sql`create unique index treasury_sent_payout_purpose_key on treasury_transactions_sent (payout_id, purpose) where payout_id is not null`.execute(db);

  await sql`alter table operator_events drop constraint operator_events_type_check`.execute(db);
  await sql`alter table operator_events add constraint operator_events_type_check check (type in ('reconciliation.mismatch', 'payouts.queued'))`.execute(db);
  await constrain(db, {
    ledgerKinds: [...LEDGER_KINDS, 'payout'],
    ledgerAccounts: [...LEDGER_ACCOUNTS, 'payouts_sent'],
    purposes: [...PURPOSES, 'payout'],
    holdingsKinds: [...HOLDINGS_KINDS, 'payout', 'treasury_funding'],
    holdingsAccounts: [...HOLDINGS_ACCOUNTS, 'paid_out'],
  });
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from operator_events where type = 'payouts.queued'`.execute(db);
  await sql`alter table operator_events drop constraint operator_events_type_check`.execute(db);
  await sql`alter table operator_events add constraint operator_events_type_check check (type in ('reconciliation.mismatch'))`.execute(db);
  await sql`delete from holdings_entries where transaction_id in (select id from holdings_transactions where kind in ('payout', 'treasury_funding'))`.execute(db);
  await sql`delete from holdings_transactions where kind in ('payout', 'treasury_funding')`.execute(db);
  await sql`delete from treasury_sent_replaced where sent_id in (select id from treasury_transactions_sent where payout_id is not null)`.execute(db);
  await sql`delete from treasury_transactions_sent where payout_id is not null`.execute(db);
  await sql`delete from ledger_entries where transaction_id in (select id from ledger_transactions where payout_id is not null)`.execute(db);
  await sql`delete from ledger_transactions where payout_id is not null`.execute(db);
  await constrain(db, {
    ledgerKinds: LEDGER_KINDS,
    ledgerAccounts: LEDGER_ACCOUNTS,
    purposes: PURPOSES,
    holdingsKinds: HOLDINGS_KINDS,
    holdingsAccounts: HOLDINGS_ACCOUNTS,
  });
  await db.schema.alterTable('treasury_transactions_sent').dropColumn('payout_id').execute();
  await sql`alter table treasury_transactions_sent alter column sweep_id set not null`.execute(db);
  await db.schema.alterTable('ledger_transactions').dropColumn('payout_id').execute();
  await sql`alter table ledger_transactions alter column deposit_id set not null`.execute(db);
  await db.schema.alterTable('deposits').dropColumn('amount_refunded').execute();
  await db.schema.dropTable('payouts').execute();
}
