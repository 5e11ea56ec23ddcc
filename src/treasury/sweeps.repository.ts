import { sql } from 'kysely';
import type { Executor } from '../db/database';
import { inTransaction } from '../db/database';
import { newId } from '../domain/ids';
import type { NewSweep, SentPurpose, SentTransaction, Sweep, SweepStatus } from './treasury.table';

export interface SweepCandidate {
  address: string;
  currency: string;
  /** What the holdings ledger says the address holds, base units as numeric text. */
  balance: string;
  branch: 'customers' | 'orders';
  index: number;
  merchantId: string;
}

/**
 * Deposit addresses of the mode and network holding at least `minimum` of a currency by the
 * holdings ledger, with what derived them (the signer needs the branch and index), and no sweep
 * of that address and currency under way.
 */
export async function sweepCandidates(db: Executor, livemode: boolean, network: string, minimums: (currency: string) => bigint): Promise<SweepCandidate[]> {
  const { rows } = await sql<{
    address: string;
    currency: string;
    balance: string;
    branch: 'customers' | 'orders' | null;
    index: number | null;
    merchant_id: string | null;
  }>`
    with held as (
      select address, currency, sum(amount) as balance
        from holdings_entries
       where livemode = ${livemode} and network = ${network} and account = 'deposit_addresses'
       group by address, currency
      having sum(amount) > 0
    )
    select h.address, h.currency, h.balance::text as balance,
           case when c.id is not null then 'customers' when o.id is not null then 'orders' end as branch,
           coalesce(c.address_index, o.address_index) as index,
           coalesce(c.merchant_id, o.merchant_id) as merchant_id
      from held h
      left join customer_addresses ca on ca.address = h.address and ca.livemode = ${livemode}
      left join customers c on c.id = ca.customer_id
      left join orders o on o.address = h.address and o.livemode = ${livemode} and c.id is null
     where not exists (
       select 1 from sweeps s
        where s.livemode = ${livemode} and s.network = ${network} and s.address = h.address and s.currency = h.currency
          and s.status in ('pending', 'topping_up', 'sending'))
     order by h.address, h.currency`.execute(db);
  return rows
    .filter((row) => row.branch !== null && row.index !== null && row.merchant_id !== null && BigInt(row.balance) >= minimums(row.currency))
    .map((row) => ({
      address: row.address,
      currency: row.currency,
      balance: row.balance,
      branch: row.branch!,
      index: row.index!,
      merchantId: row.merchant_id!,
    }));
}

/** Records a new sweep unless one of the address and currency is under way (then undefined). */
export async function insertSweepIfNone(db: Executor, sweep: NewSweep): Promise<Sweep | undefined> {
  const { rows } = await sql<Sweep>`
    insert into sweeps (id, livemode, network, currency, decimals, address, address_branch, address_index, merchant_id, treasury, status, workflow_id)
    values (${sweep.id}, ${sweep.livemode}, ${sweep.network}, ${sweep.currency}, ${sweep.decimals}, ${sweep.address}, ${sweep.address_branch},
            ${sweep.address_index}, ${sweep.merchant_id}, ${sweep.treasury}, ${sweep.status}, ${sweep.workflow_id})
    on conflict (livemode, network, address, currency) where status in ('pending', 'topping_up', 'sending') do nothing
    returning *`.execute(db);
  return rows[0];
}

export async function findSweep(db: Executor, id: string): Promise<Sweep | undefined> {
  return db.selectFrom('sweeps').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateSweep(
  db: Executor,
  id: string,
  update: { status?: SweepStatus; amount?: bigint; energy_source?: 'delegation' | 'burn' | null; failure_reason?: string | null; completed_at?: Date | null },
): Promise<Sweep> {
  return db
    .updateTable('sweeps')
    .set({ ...update, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listSweeps(db: Executor, livemode: boolean, limit = 100): Promise<Sweep[]> {
  return db.selectFrom('sweeps').selectAll().where('livemode', '=', livemode).orderBy('id', 'desc').limit(limit).execute();
}

export async function sentTransactionOf(db: Executor, sweepId: string, purpose: SentPurpose): Promise<SentTransaction | undefined> {
  return db.selectFrom('treasury_transactions_sent').selectAll().where('sweep_id', '=', sweepId).where('purpose', '=', purpose).executeTakeFirst();
}

/** The payout's transaction, once allocated. */
export async function payoutTransactionOf(db: Executor, payoutId: string): Promise<SentTransaction | undefined> {
  return db.selectFrom('treasury_transactions_sent').selectAll().where('payout_id', '=', payoutId).where('purpose', '=', 'payout').executeTakeFirst();
}

/** Whose transaction it is: a sweep's (of one purpose among its several) or a payout's. */
export type SentOwner = { sweepId: string; payoutId?: never } | { payoutId: string; sweepId?: never };

type SentInput = SentOwner & { purpose: SentPurpose; livemode: boolean; network: string; from: string; to: string };

function recordedFor(db: Executor, input: SentInput): Promise<SentTransaction | undefined> {
  return input.payoutId !== undefined ? payoutTransactionOf(db, input.payoutId) : sentTransactionOf(db, input.sweepId, input.purpose);
}

/**
 * The sweep's transaction of this purpose, or the payout's, made once: its sender's next nonce taken
 * under the sender's row lock (never below what the chain has seen, `chainNonce`) and recorded with
 * the request it completes, in one transaction. A retry finds the row and asks for the same signature.
 */
export async function allocateSentTransaction(
  db: Executor,
  input: SentInput & { chainNonce: bigint },
  request: (nonce: bigint) => Record<string, unknown>,
): Promise<SentTransaction> {
  return inTransaction(db, async (transaction) => {
    const existing = await recordedFor(transaction, input);
    if (existing) return existing;
    await sql`insert into sending_nonces (livemode, network, address, next_nonce) values (${input.livemode}, ${input.network}, ${input.from}, ${input.chainNonce.toString()})
              on conflict do nothing`.execute(transaction);
    const from = { livemode: input.livemode, network: input.network, address: input.from };
    const stored = await lockNextNonce(transaction, from);
    const sender = (table: 'released_nonces') =>
      transaction.deleteFrom(table).where('livemode', '=', input.livemode).where('network', '=', input.network).where('address', '=', input.from);
    // A nonce given back below what the chain has seen was filled by someone else: forget it.
    await sender('released_nonces').where('nonce', '<', input.chainNonce.toString()).execute();
    const released = await sender('released_nonces')
      .where('nonce', '=', (eb) =>
        eb
          .selectFrom('released_nonces')
          .select((inner) => inner.fn.min('nonce').as('lowest'))
          .where('livemode', '=', input.livemode)
          .where('network', '=', input.network)
          .where('address', '=', input.from),
      )
      .returning('nonce')
      .executeTakeFirst();
    let nonce: bigint;
    if (released) nonce = BigInt(released.nonce);
    else {
      nonce = stored > input.chainNonce ? stored : input.chainNonce;
      await setNextNonce(transaction, from, nonce + 1n);
    }
    return transaction
      .insertInto('treasury_transactions_sent')
      .values({ ...newSentRow(input, request(nonce)), nonce: nonce.toString() })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** A sent transaction's new row, `allocated`, with the request it is to be signed for. */
function newSentRow(input: SentInput, request: Record<string, unknown>) {
  return {
    id: newId('sentTransaction'),
    sweep_id: input.sweepId ?? null,
    payout_id: input.payoutId ?? null,
    purpose: input.purpose,
    livemode: input.livemode,
    network: input.network,
    from_address: input.from,
    to_address: input.to,
    request: JSON.stringify(request),
    status: 'allocated' as const,
  };
}

/**
 * A Tron transaction of the sweep (or the payout), made once: Tron has no nonces, so the request (the
 * transaction's bytes, built against a recent block) and its expiration are recorded as they are,
 * before the signer is asked. A retry finds the row and asks for the same signature.
 */
export async function recordTronSentTransaction(
  db: Executor,
  input: SentInput & { expiresAt: Date },
  request: Record<string, unknown>,
): Promise<SentTransaction> {
  await db
    .insertInto('treasury_transactions_sent')
    .values({ ...newSentRow(input, request), expires_at: input.expiresAt })
    .onConflict((oc) =>
      input.payoutId !== undefined
        ? oc.columns(['payout_id', 'purpose']).where('payout_id', 'is not', null).doNothing()
        : oc.columns(['sweep_id', 'purpose']).doNothing(),
    )
    .execute();
  return (await recordedFor(db, input))!;
}

export async function updateSentTransaction(
  db: Executor,
  id: string,
  update: Partial<Pick<SentTransaction, 'signed_transaction' | 'hash' | 'status' | 'block_number' | 'gas_used' | 'fee' | 'broadcast_block'>>,
): Promise<SentTransaction> {
  return db
    .updateTable('treasury_transactions_sent')
    .set({ ...update, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Which of these transactions inflow itself sent (a gas top-up, a sweep): the chain watcher sees a
 * top-up arrive at a deposit address like a customer's payment, and must not credit it as one.
 * The hash is recorded before the transaction is broadcast, so a watcher can never see it first.
 */
export async function ownSentTransactions(db: Executor, livemode: boolean, network: string, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  // Every version of a nonce counts: a replaced one may be the one mined.
  const rows = await db
    .selectFrom('treasury_transactions_sent')
    .select('hash')
    .where('livemode', '=', livemode)
    .where('network', '=', network)
    .where('hash', 'in', hashes)
    .unionAll(
      db.selectFrom('treasury_sent_replaced').select('hash').where('livemode', '=', livemode).where('network', '=', network).where('hash', 'in', hashes),
    )
    .execute();
  return new Set(rows.map((row) => row.hash!));
}

/** The versions of a sent transaction replaced by a higher fee, oldest first. */
export async function replacedVersionsOf(db: Executor, sentId: string): Promise<Array<{ hash: string; request: Record<string, unknown> }>> {
  return db.selectFrom('treasury_sent_replaced').select(['hash', 'request']).where('sent_id', '=', sentId).orderBy('version').execute();
}

/** Records the next version's request, unless one is recorded already (a retry asks for that one). */
export async function recordReplacementRequest(db: Executor, id: string, request: Record<string, unknown>): Promise<SentTransaction> {
  await db
    .updateTable('treasury_transactions_sent')
    .set({ replacement_request: JSON.stringify(request), updated_at: new Date() })
    .where('id', '=', id)
    .where('replacement_request', 'is', null)
    .execute();
  return db.selectFrom('treasury_transactions_sent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Gives up a recorded replacement request the signer refused, and counts stuck again from `head`. */
export async function dropReplacementRequest(db: Executor, id: string, head: bigint): Promise<void> {
  await db
    .updateTable('treasury_transactions_sent')
    .set({ replacement_request: null, broadcast_block: head.toString(), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/**
 * Makes the signed replacement the current version, keeping the one it replaces (which may still
 * be mined) in `treasury_sent_replaced`, in one transaction, before the replacement is broadcast.
 */
export async function replaceSentVersion(
  db: Executor,
  sent: SentTransaction,
  signed: { signed_transaction: string; hash: string },
  head: bigint,
  /** Tron: the new version's expiration. */
  expiresAt?: Date,
): Promise<SentTransaction> {
  return inTransaction(db, async (transaction) => {
    await transaction
      .insertInto('treasury_sent_replaced')
      .values({
        sent_id: sent.id,
        version: sent.replacements,
        livemode: sent.livemode,
        network: sent.network,
        hash: sent.hash!,
        request: JSON.stringify(sent.request),
        signed_transaction: sent.signed_transaction!,
      })
      .execute();
    return transaction
      .updateTable('treasury_transactions_sent')
      .set({
        request: JSON.stringify(sent.replacement_request),
        replacement_request: null,
        replacements: sent.replacements + 1,
        signed_transaction: signed.signed_transaction,
        hash: signed.hash,
        broadcast_block: head.toString(),
        ...(expiresAt && { expires_at: expiresAt }),
        updated_at: new Date(),
      })
      .where('id', '=', sent.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/**
 * What `/healthz?detail` says of the treasury: sweeps under way, failed in the last day and the last
 * completed; reconciliation differences found in the last day and the latest, and its operator
 * events not delivered.
 */
export async function treasuryHealth(db: Executor) {
  const since = sql<Date>`now() - interval '1 day'`;
  const [sweeps, mismatches, undelivered] = await Promise.all([
    db
      .selectFrom('sweeps')
      .select((eb) => [
        eb.fn.countAll<string>().filterWhere('status', 'in', ['pending', 'topping_up', 'sending']).as('under_way'),
        eb.fn.countAll<string>().filterWhere('status', '=', 'failed').filterWhere('completed_at', '>', since).as('failed_24h'),
        eb.fn.max('completed_at').filterWhere('status', '=', 'completed').as('last_completed_at'),
      ])
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('reconciliation_mismatches')
      .select((eb) => [eb.fn.countAll<string>().filterWhere('found_at', '>', since).as('differences_24h'), eb.fn.max('found_at').as('last_difference_at')])
      .executeTakeFirstOrThrow(),
    // Operator events not (yet) delivered: none configured, or the operator's webhook failing.
    db
      .selectFrom('operator_events')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('type', '=', 'reconciliation.mismatch')
      .where('delivered_at', 'is', null)
      .executeTakeFirstOrThrow(),
  ]);
  const iso = (value: unknown) => (value ? new Date(value as string).toISOString() : null);
  return {
    sweeps: { under_way: Number(sweeps.under_way), failed_24h: Number(sweeps.failed_24h), last_completed_at: iso(sweeps.last_completed_at) },
    reconciliation: {
      differences_24h: Number(mismatches.differences_24h),
      last_difference_at: iso(mismatches.last_difference_at),
      operator_events_undelivered: Number(undelivered.count),
    },
  };
}

/**
 * The signer refused the transaction: it is recorded as refused, and its nonce goes back to its
 * sender under the sender's lock: the next one allocated when it was the last, else kept in
 * `released_nonces` for the next allocation. Never sent, it must not be a gap every later
 * transaction of the sender waits behind.
 */
export async function releaseRefusedNonce(db: Executor, sent: SentTransaction): Promise<void> {
  await inTransaction(db, async (transaction) => {
    const from = { livemode: sent.livemode, network: sent.network, address: sent.from_address };
    const next = await lockNextNonce(transaction, from);
    const refused = await transaction
      .updateTable('treasury_transactions_sent')
      .set({ status: 'refused', nonce: null, updated_at: new Date() })
      .where('id', '=', sent.id)
      .where('status', '=', 'allocated')
      .returning('id')
      .executeTakeFirst();
    if (!refused || sent.nonce === null) return;
    const nonce = BigInt(sent.nonce);
    if (next === nonce + 1n) await setNextNonce(transaction, from, nonce);
    else
      await transaction
        .insertInto('released_nonces')
        .values({ livemode: sent.livemode, network: sent.network, address: sent.from_address, nonce })
        .onConflict((conflict) => conflict.doNothing())
        .execute();
  });
}

interface Sender {
  livemode: boolean;
  network: string;
  address: string;
}

/** The sender's next nonce, its row locked until the transaction ends: nonces are taken and given back one at a time. */
async function lockNextNonce(transaction: Executor, sender: Sender): Promise<bigint> {
  const locked = await transaction
    .selectFrom('sending_nonces')
    .select('next_nonce')
    .where('livemode', '=', sender.livemode)
    .where('network', '=', sender.network)
    .where('address', '=', sender.address)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return BigInt(locked.next_nonce);
}

async function setNextNonce(transaction: Executor, sender: Sender, next: bigint): Promise<void> {
  await transaction
    .updateTable('sending_nonces')
    .set({ next_nonce: next.toString() })
    .where('livemode', '=', sender.livemode)
    .where('network', '=', sender.network)
    .where('address', '=', sender.address)
    .execute();
}
