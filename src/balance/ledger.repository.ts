import { sql } from 'kysely';
import type { ListWindow } from '../api/pagination';
import type { Executor, Tenant } from '../db/database';
import type { LedgerAccount, LedgerKind, LedgerTransaction, NewLedgerTransaction } from './ledger.table';

/**
 * Books one balanced ledger transaction, at most once per (deposit, kind, inclusion): the unique index makes
 * a retried activity's second attempt a no-op. Returns whether this call booked it.
 */
export async function bookLedgerTransaction(
  db: Executor,
  transaction: NewLedgerTransaction,
  entries: Array<{ account: LedgerAccount; amount: bigint }>,
): Promise<boolean> {
  const total = entries.reduce((sum, entry) => sum + entry.amount, 0n);
  if (total !== 0n) throw new Error(`unbalanced ledger transaction for ${transaction.deposit_id}: entries sum to ${total}`);
  const booked = await db
    .insertInto('ledger_transactions')
    .values(transaction)
    .onConflict((oc) => oc.columns(['deposit_id', 'kind', 'inclusion']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!booked) return false;
  await db
    .insertInto('ledger_entries')
    .values(
      entries.map((entry) => ({
        transaction_id: transaction.id,
        account: entry.account,
        merchant_id: transaction.merchant_id,
        livemode: transaction.livemode,
        network: transaction.network,
        currency: transaction.currency,
        amount: entry.amount.toString(),
      })),
    )
    .execute();
  return true;
}

export interface BalanceRow {
  network: string;
  currency: string;
  received: string;
  fees: string;
  net: string;
  deposit_count: string;
  received_usd_cents: string;
  fees_usd_cents: string;
}

/** Per network and currency, from the ledger alone: what came in, what the fees took, what is left. */
export async function balanceByCurrency(db: Executor, tenant: Tenant): Promise<BalanceRow[]> {
  const { rows } = await sql<BalanceRow>`
    with entries as (
      select network, currency,
             coalesce(sum(-amount) filter (where account = 'customer_deposits'), 0) as received,
             coalesce(sum(amount) filter (where account = 'platform_fees'), 0) as fees,
             coalesce(sum(amount) filter (where account = 'merchant_balance'), 0) as net
      from ledger_entries
      where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode}
      group by network, currency
    ), transactions as (
      select network, currency,
             sum(case kind when 'deposit' then 1 else -1 end) as deposit_count,
             sum(amount_usd_cents) as received_usd_cents,
             sum(fee_usd_cents) as fees_usd_cents
      from ledger_transactions
      where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode}
      group by network, currency
    )
    select e.network, e.currency, e.received::text, e.fees::text, e.net::text,
           t.deposit_count::text, t.received_usd_cents::text, t.fees_usd_cents::text
    from entries e join transactions t using (network, currency)
    order by e.network, e.currency`.execute(db);
  return rows;
}

/**
 * One ledger transaction as the list shows it: its row, the deposit's decimals, and its entries
 * summed per account (signed base units as numeric text: a reversal's are negative).
 */
export interface LedgerTransactionRow extends LedgerTransaction {
  decimals: number;
  /** What came in: minus the customer_deposits entry. */
  amount: string;
  fee: string;
  net: string;
}

export interface LedgerTransactionFilters {
  deposit_id?: string | undefined;
  network?: string | undefined;
  currency?: string | undefined;
  type?: LedgerKind | undefined;
}

/**
 * The tenant's ledger transactions with the deposit's decimals and the entries summed per account;
 * the sums are computed only for the rows a query keeps (one index lookup each on
 * ledger_entries_transaction_idx).
 */
function ledgerTransactions(db: Executor, tenant: Tenant) {
  const entrySum = (account: LedgerAccount) =>
    sql<string>`(select coalesce(sum(e.amount), 0) from ledger_entries e where e.transaction_id = t.id and e.account = ${account})`;
  return db
    .selectFrom('ledger_transactions as t')
    .innerJoin('deposits as d', 'd.id', 't.deposit_id')
    .selectAll('t')
    .select('d.decimals')
    .select([
      sql<string>`(-${entrySum('customer_deposits')})::text`.as('amount'),
      sql<string>`${entrySum('platform_fees')}::text`.as('fee'),
      sql<string>`${entrySum('merchant_balance')}::text`.as('net'),
    ])
    .where('t.merchant_id', '=', tenant.merchantId)
    .where('t.livemode', '=', tenant.livemode);
}

/** The tenant's ledger transactions, newest first (by id, which sorts by booking time), filtered and windowed as every list is. */
export async function listLedgerTransactions(
  db: Executor,
  tenant: Tenant,
  filters: LedgerTransactionFilters,
  page: ListWindow,
): Promise<LedgerTransactionRow[]> {
  let query = ledgerTransactions(db, tenant).orderBy('t.id', 'desc').limit(page.limit);
  if (filters.deposit_id) query = query.where('t.deposit_id', '=', filters.deposit_id);
  if (filters.network) query = query.where('t.network', '=', filters.network);
  if (filters.currency) query = query.where('t.currency', '=', filters.currency);
  if (filters.type) query = query.where('t.kind', '=', filters.type);
  if (page.startingAfter) query = query.where('t.id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('t.created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('t.created_at', '<', page.createdBefore);
  return query.execute();
}

export async function findLedgerTransaction(db: Executor, tenant: Tenant, id: string): Promise<LedgerTransactionRow | undefined> {
  return ledgerTransactions(db, tenant).where('t.id', '=', id).executeTakeFirst();
}

/**
 * The ledger's invariants, checked in SQL; each returned line is a violation (none is healthy):
 * every transaction balances per currency, no merchant balance is negative, a deposit is booked
 * at most once per kind and reversed only after it was booked.
 */
export async function ledgerInvariantViolations(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ violation: string }>`
    select 'unbalanced transaction ' || transaction_id || ' in ' || currency || ': ' || sum(amount)::text as violation
      from ledger_entries group by transaction_id, currency having sum(amount) <> 0
    union all
    select 'negative balance for ' || merchant_id || ' (' || case when livemode then 'live' else 'test' end || ') ' || network || ' ' || currency || ': ' || sum(amount)::text
      from ledger_entries where account = 'merchant_balance'
      group by merchant_id, livemode, network, currency having sum(amount) < 0
    union all
    select 'deposit ' || deposit_id || ' booked ' || count(*)::text || ' times as ' || kind || ' in inclusion ' || inclusion::text
      from ledger_transactions group by deposit_id, kind, inclusion having count(*) > 1
    union all
    select 'deposit ' || r.deposit_id || ' reversed without a booking in inclusion ' || r.inclusion::text
      from ledger_transactions r where r.kind = 'reversal'
      and not exists (select 1 from ledger_transactions d where d.deposit_id = r.deposit_id and d.kind = 'deposit' and d.inclusion = r.inclusion)
    union all
    select 'deposit ' || t.deposit_id || ' has a booking in an earlier inclusion that was never reversed'
      from ledger_transactions t join deposits d on d.id = t.deposit_id
     where t.kind = 'deposit' and t.inclusion < d.inclusion
       and not exists (select 1 from ledger_transactions r where r.deposit_id = t.deposit_id and r.kind = 'reversal' and r.inclusion = t.inclusion)
    union all
    select 'transaction ' || t.id || ' has no entries'
      from ledger_transactions t where not exists (select 1 from ledger_entries e where e.transaction_id = t.id)`.execute(db);
  return rows.map((row) => row.violation);
}
