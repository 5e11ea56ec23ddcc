import { sql } from 'kysely';
import type { ListWindow } from '../api/pagination';
import type { Executor, Tenant } from '../db/database';
import type { LedgerAccount, LedgerKind, LedgerTransaction, NewLedgerTransaction } from './ledger.table';
import { inFlightStatuses } from '../payouts/payouts.table';

/**
 * Books one balanced ledger transaction, at most once per (deposit, kind, inclusion) or per payout: the unique index makes
 * a retried activity's second attempt a no-op. Returns whether this call booked it.
 */
export async function bookLedgerTransaction(
  db: Executor,
  transaction: NewLedgerTransaction,
  entries: Array<{ account: LedgerAccount; amount: bigint }>,
): Promise<boolean> {
  const total = entries.reduce((sum, entry) => sum + entry.amount, 0n);
  if (total !== 0n) throw new Error(`unbalanced ledger transaction for ${transaction.deposit_id ?? transaction.payout_id}: entries sum to ${total}`);
  const booked = await db
    .insertInto('ledger_transactions')
    .values(transaction)
    .onConflict((oc) =>
      transaction.payout_id
        ? oc.columns(['payout_id', 'kind']).where('payout_id', 'is not', null).doNothing()
        : oc.columns(['deposit_id', 'kind', 'inclusion']).doNothing(),
    )
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
  /** What the ledger owes the merchant now: the net less what payouts took. */
  posted: string;
  /** Held by payouts in flight (amount and fee), not yet booked. */
  pending: string;
  /** What the merchant may pay out now: posted less pending. */
  available: string;
  /** What completed payouts took, fees included. */
  paid_out: string;
  deposit_count: string;
  received_usd_cents: string;
  fees_usd_cents: string;
}

/**
 * Per network and currency: what came in, what the fees took and the net (deposits and their
 * reversals), and the balance's three levels: posted (the ledger's merchant balance, payouts booked
 * included), pending (held by payouts in flight: their rows, not yet the ledger's) and available.
 */
export async function balanceByCurrency(db: Executor, tenant: Tenant): Promise<BalanceRow[]> {
  // The entries alone (one index range per merchant and mode), and the payouts' own rows for what they
  // held and took: a completed payout's booking is written with its status, so the two agree.
  const { rows } = await sql<BalanceRow>`
    with entries as (
      select network, currency,
             coalesce(sum(-amount) filter (where account = 'customer_deposits'), 0) as received,
             coalesce(sum(amount) filter (where account = 'platform_fees'), 0) as all_fees,
             coalesce(sum(amount) filter (where account = 'merchant_balance'), 0) as posted
      from ledger_entries
      where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode}
      group by network, currency
    ), transactions as (
      select network, currency,
             sum(case kind when 'deposit' then 1 else -1 end) as deposit_count,
             sum(amount_usd_cents) as received_usd_cents,
             sum(fee_usd_cents) as fees_usd_cents
      from ledger_transactions
      where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode} and kind in ('deposit', 'reversal')
      group by network, currency
    ), payout_totals as (
      select network, currency,
             coalesce(sum(amount + fee) filter (where status in (${sql.join([...inFlightStatuses])})), 0) as pending,
             coalesce(sum(amount) filter (where status = 'completed'), 0) as paid_amount,
             coalesce(sum(fee) filter (where status = 'completed'), 0) as paid_fees
      from payouts
      where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode} and status in (${sql.join([...inFlightStatuses, 'completed'])})
      group by network, currency
    )
    select e.network, e.currency, e.received::text,
           (e.all_fees - coalesce(p.paid_fees, 0))::text as fees,
           (e.posted + coalesce(p.paid_amount + p.paid_fees, 0))::text as net,
           e.posted::text,
           coalesce(p.pending, 0)::text as pending,
           (e.posted - coalesce(p.pending, 0))::text as available,
           coalesce(p.paid_amount + p.paid_fees, 0)::text as paid_out,
           t.deposit_count::text, t.received_usd_cents::text, t.fees_usd_cents::text
    from entries e join transactions t using (network, currency) left join payout_totals p using (network, currency)
    order by e.network, e.currency`.execute(db);
  return rows;
}

/**
 * What the merchant may pay out of one currency on one network now: its posted balance less what
 * payouts in flight hold. Read under the merchant's ledger lock (lockMerchantLedger) by whatever
 * holds more, so two payouts can never both take the same money.
 */
export async function availableBalance(db: Executor, tenant: Tenant, network: string, currency: string): Promise<bigint> {
  const { rows } = await sql<{ available: string }>`
    select ((select coalesce(sum(amount), 0) from ledger_entries
              where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode} and network = ${network} and currency = ${currency}
                and account = 'merchant_balance')
          - (select coalesce(sum(amount + fee), 0) from payouts
              where merchant_id = ${tenant.merchantId} and livemode = ${tenant.livemode} and network = ${network} and currency = ${currency}
                and status in (${sql.join([...inFlightStatuses])})))::text as available`.execute(db);
  return BigInt(rows[0]!.available);
}

/**
 * Takes the merchant's ledger lock for the mode until the caller's transaction ends: whatever
 * reads the available balance to hold part of it (a payout, a refund) runs one at a time per merchant.
 */
export async function lockMerchantLedger(transaction: Executor, tenant: Tenant): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('ledger:' || ${tenant.merchantId} || ':' || ${tenant.livemode ? 'live' : 'test'}))`.execute(transaction);
}

/**
 * One ledger transaction as the list shows it: its row, the deposit's decimals, and its entries
 * summed per account (signed base units as numeric text: a reversal's are negative).
 */
export interface LedgerTransactionRow extends LedgerTransaction {
  decimals: number;
  /** What came in (minus the customer_deposits entry), or went out (minus payouts_sent). */
  amount: string;
  fee: string;
  net: string;
}

export interface LedgerTransactionFilters {
  deposit_id?: string | undefined;
  payout_id?: string | undefined;
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
    .leftJoin('deposits as d', 'd.id', 't.deposit_id')
    .leftJoin('payouts as p', 'p.id', 't.payout_id')
    .selectAll('t')
    .select(sql<number>`coalesce(d.decimals, p.decimals)`.as('decimals'))
    .select([
      sql<string>`(-${entrySum('customer_deposits')} - ${entrySum('payouts_sent')})::text`.as('amount'),
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
  if (filters.payout_id) query = query.where('t.payout_id', '=', filters.payout_id);
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
      from ledger_transactions where deposit_id is not null group by deposit_id, kind, inclusion having count(*) > 1
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
