import { sql, type Kysely } from 'kysely';

/**
 * Tron sweeps (docs/treasury.md#on-tron): a token sweep may borrow energy from the gas wallet's
 * stake, so a sweep sends up to two more transactions, each recorded and booked as the others:
 * - `treasury_transactions_sent.purpose` and `holdings_transactions.kind` may be
 *   `energy_delegation` (the gas wallet lends staked energy to the deposit address) and
 *   `energy_reclaim` (it takes it back after the sweep);
 * - `treasury_transactions_sent.expires_at`: a Tron transaction has no nonce; it is valid until its
 *   expiration, and one unmined when the solidified chain has passed it can never be mined, so it
 *   is built again (the earlier version kept in `treasury_sent_replaced`). Null on EVM networks;
 * - `sweeps.energy_source`: how a Tron token sweep pays for the energy its transfer takes, decided
 *   once when it is prepared: `delegation` (lent from the gas wallet's stake, taken back after) or
 *   `burn` (TRX topped up and burned); null when it needs none, and on EVM networks.
 */
const PURPOSES = ['gas_topup', 'sweep', 'energy_delegation', 'energy_reclaim'];
const KINDS = ['deposit', 'reversal', 'gas_topup', 'sweep', 'network_fee', 'energy_delegation', 'energy_reclaim'];

const list = (values: string[]) => sql.join(values.map((value) => sql.lit(value)));

async function constrain(db: Kysely<any>, purposes: string[], kinds: string[]): Promise<void> {
  await sql`alter table treasury_transactions_sent drop constraint treasury_transactions_sent_purpose_check`.execute(db);
  await sql`alter table treasury_transactions_sent add constraint treasury_transactions_sent_purpose_check check (purpose in (${list(purposes)}))`.execute(db);
  await sql`alter table holdings_transactions drop constraint holdings_transactions_kind_check`.execute(db);
  await sql`alter table holdings_transactions add constraint holdings_transactions_kind_check check (kind in (${list(kinds)}))`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await constrain(db, PURPOSES, KINDS);
  await db.schema.alterTable('treasury_transactions_sent').addColumn('expires_at', 'timestamptz').execute();
  await db.schema
    .alterTable('sweeps')
    .addColumn('energy_source', 'text', (col) => col.check(sql`energy_source in ('delegation', 'burn')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sweeps').dropColumn('energy_source').execute();
  await db.schema.alterTable('treasury_transactions_sent').dropColumn('expires_at').execute();
  await sql`delete from holdings_entries where transaction_id in (select id from holdings_transactions where kind in ('energy_delegation', 'energy_reclaim'))`.execute(db);
  await sql`delete from holdings_transactions where kind in ('energy_delegation', 'energy_reclaim')`.execute(db);
  await sql`delete from treasury_sent_replaced where sent_id in (select id from treasury_transactions_sent where purpose in ('energy_delegation', 'energy_reclaim'))`.execute(db);
  await sql`delete from treasury_transactions_sent where purpose in ('energy_delegation', 'energy_reclaim')`.execute(db);
  await constrain(db, PURPOSES.slice(0, 2), KINDS.slice(0, 5));
}
