import { sql, type Kysely } from 'kysely';

/**
 * The gas wallet's funding in the holdings ledger (docs/treasury.md#reconciliation): the operator
 * sends it coin by hand, so reconciliation books what the chain shows it holds above what its booked
 * spending left (kind `gas_funding`, from the account `funding`: money the operator put in), and
 * reports as a difference anything it holds below that.
 */
const KINDS = ['deposit', 'reversal', 'gas_topup', 'sweep', 'network_fee', 'energy_delegation', 'energy_reclaim'];
const ACCOUNTS = ['deposit_addresses', 'gas_wallet', 'treasury', 'network_fees', 'received'];

const list = (values: string[]) => sql.join(values.map((value) => sql.lit(value)));

async function constrain(db: Kysely<any>, kinds: string[], accounts: string[]): Promise<void> {
  await sql`alter table holdings_transactions drop constraint holdings_transactions_kind_check`.execute(db);
  await sql`alter table holdings_transactions add constraint holdings_transactions_kind_check check (kind in (${list(kinds)}))`.execute(db);
  await sql`alter table holdings_entries drop constraint holdings_entries_account_check`.execute(db);
  await sql`alter table holdings_entries add constraint holdings_entries_account_check check (account in (${list(accounts)}))`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await constrain(db, [...KINDS, 'gas_funding'], [...ACCOUNTS, 'funding']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from holdings_entries where transaction_id in (select id from holdings_transactions where kind = 'gas_funding')`.execute(db);
  await sql`delete from holdings_transactions where kind = 'gas_funding'`.execute(db);
  await constrain(db, KINDS, ACCOUNTS);
}
