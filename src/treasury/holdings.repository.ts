/**
 * The holdings ledger: where the operator's money is, per network, currency and address, in base
 * units. Double-entry and debit-positive: the asset accounts (`deposit_addresses`, `gas_wallet`,
 * `treasury`) hold what their balance says; `received` is what customers paid in (negative);
 * `network_fees` what sending cost. Each transaction is booked once for its source: a unique
 * (source, kind) makes a retried step's second booking a no-op.
 *
 * The merchant ledger (balance/) says whose the money is; this one says where it is. A deposit's
 * booking there is mirrored here by `catchUpDepositHoldings`, so the deposit path itself is untouched.
 */
import { sql } from 'kysely';
import type { Executor } from '../db/database';
import { newId } from '../domain/ids';
import type { HoldingsAccount, HoldingsKind } from './treasury.table';

export interface HoldingsEntry {
  account: HoldingsAccount;
  currency: string;
  address: string | null;
  amount: bigint;
}

/**
 * Books one balanced holdings transaction (per currency) at most once for its source; returns
 * whether this call booked it. The transaction and its entries are one statement: were they two,
 * a process killed between them (outside a caller's transaction) would leave the transaction
 * booked without its entries, and its unique (source, kind) would make every retry a no-op: the
 * money gone from the ledger for good (a deposit's, found by the chaos run).
 */
export async function bookHoldings(
  db: Executor,
  transaction: { livemode: boolean; network: string; kind: HoldingsKind; sourceId: string },
  entries: HoldingsEntry[],
): Promise<boolean> {
  const totals = new Map<string, bigint>();
  for (const entry of entries) totals.set(entry.currency, (totals.get(entry.currency) ?? 0n) + entry.amount);
  for (const [currency, total] of totals) {
    if (total !== 0n) throw new Error(`unbalanced holdings transaction for ${transaction.sourceId}: ${currency} entries sum to ${total}`);
  }
  // A transaction that cost nothing (Tron's energy lent on staked bandwidth) is booked with no entries.
  const moving = entries.filter((entry) => entry.amount !== 0n);
  const { livemode, network, kind, sourceId } = transaction;
  const { rows } = await sql<{ booked: number }>`
    with booked as (
      insert into holdings_transactions (id, livemode, network, kind, source_id)
      values (${newId('holdingsTransaction')}, ${livemode}, ${network}, ${kind}, ${sourceId})
      on conflict (source_id, kind) do nothing
      returning id
    ), entries as (
      insert into holdings_entries (transaction_id, account, livemode, network, currency, address, amount)
      select booked.id, e.account, ${livemode}, ${network}, e.currency, e.address, e.amount::numeric
        from booked,
             unnest(${moving.map((entry) => entry.account)}::text[], ${moving.map((entry) => entry.currency)}::text[],
                    ${moving.map((entry) => entry.address)}::text[], ${moving.map((entry) => entry.amount.toString())}::text[])
               as e(account, currency, address, amount)
      returning 1
    )
    select count(*)::int as booked from booked`.execute(db);
  return rows[0]!.booked > 0;
}

/**
 * Mirrors the merchant ledger's deposit and reversal bookings not yet here: money at the deposit
 * address, from `received`. Idempotent (each booking once, by its ledger transaction's id), and
 * run before every sweep plan and reconciliation. Returns how many it booked. A simulated deposit
 * (`POST /deposits/simulate`, test mode) moved nothing on a chain: it is credited to the merchant
 * but is never here, or reconciliation would find it missing at its address.
 */
export async function catchUpDepositHoldings(db: Executor, limit = 1000): Promise<number> {
  const { rows } = await sql<{
    id: string;
    kind: 'deposit' | 'reversal';
    livemode: boolean;
    network: string;
    currency: string;
    address: string;
    amount: string;
  }>`
    select t.id, t.kind, t.livemode, t.network, t.currency, d.address,
           (select -coalesce(sum(e.amount), 0) from ledger_entries e where e.transaction_id = t.id and e.account = 'customer_deposits')::text as amount
      from ledger_transactions t
      join deposits d on d.id = t.deposit_id
     where not d.simulated
       and not exists (select 1 from holdings_transactions h where h.source_id = t.id and h.kind = t.kind)
     order by t.id
     limit ${limit}`.execute(db);
  let booked = 0;
  for (const row of rows) {
    const amount = BigInt(row.amount);
    const done = await bookHoldings(db, { livemode: row.livemode, network: row.network, kind: row.kind, sourceId: row.id }, [
      { account: 'deposit_addresses', currency: row.currency, address: row.address, amount },
      { account: 'received', currency: row.currency, address: null, amount: -amount },
    ]);
    if (done) booked++;
  }
  return booked;
}

export interface AddressHolding {
  account: HoldingsAccount;
  address: string;
  currency: string;
  /** Base units, as numeric text. */
  balance: string;
}

/** What each address of the mode and network holds by the ledger, per asset account and currency (zero balances left out). */
export async function holdingsByAddress(db: Executor, livemode: boolean, network: string): Promise<AddressHolding[]> {
  const { rows } = await sql<AddressHolding>`
    select account, address, currency, sum(amount)::text as balance
      from holdings_entries
     where livemode = ${livemode} and network = ${network} and address is not null
     group by account, address, currency
    having sum(amount) <> 0
     order by account, address, currency`.execute(db);
  return rows;
}

/** Per account and currency, for an operator's summary and the reconciliation's totals. */
export async function holdingsTotals(
  db: Executor,
  livemode: boolean,
  network: string,
): Promise<Array<{ account: HoldingsAccount; currency: string; balance: string }>> {
  const { rows } = await sql<{ account: HoldingsAccount; currency: string; balance: string }>`
    select account, currency, sum(amount)::text as balance
      from holdings_entries where livemode = ${livemode} and network = ${network}
     group by account, currency order by account, currency`.execute(db);
  return rows;
}

/** The holdings ledger's invariant: every transaction balances per currency. Each line is a violation. */
export async function holdingsInvariantViolations(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ violation: string }>`
    select 'unbalanced holdings transaction ' || transaction_id || ' in ' || currency || ': ' || sum(amount)::text as violation
      from holdings_entries group by transaction_id, currency having sum(amount) <> 0`.execute(db);
  return rows.map((row) => row.violation);
}
