/**
 * Deposits as rows: each transition of the deposit workflow is one database transaction that
 * updates the deposit, books the ledger when money moves, and writes the event (the outbox that
 * webhooks are delivered from). Every function is idempotent, so an activity may be retried.
 */
import type { Db, Executor } from './db/database';
import { insertDepositIfAbsent, lockDepositById, updateDeposit } from './db/repositories/deposits.repository';
import { findDepositEventId, insertEvent } from './db/repositories/events.repository';
import { bookLedgerTransaction } from './db/repositories/ledger.repository';
import type { Deposit } from './db/tables/deposits.table';
import { canTransition, type DepositStatus, type FailureReason } from './domain/deposit-state';
import { computeFee } from './domain/fees';
import { newId } from './domain/ids';
import { formatAmount, formatUsdCents } from './domain/money';

/** A transfer to a customer's address, as detected on-chain or simulated. */
export interface DepositTransfer {
  depositId: string;
  merchantId: string;
  livemode: boolean;
  customerId: string;
  network: string;
  currency: string;
  decimals: number;
  address: string;
  fromAddress: string | null;
  transactionHash: string;
  logIndex: number;
  blockNumber: number | null;
  blockHash: string | null;
  /** Base units, as a decimal string (bigint does not cross Temporal's JSON payloads). */
  amount: string;
  requiredConfirmations: number;
  simulated: boolean;
}

export interface DepositObject {
  id: string;
  object: 'deposit';
  livemode: boolean;
  customer_id: string;
  network: string;
  currency: string;
  address: string;
  from_address: string | null;
  transaction_hash: string;
  log_index: number;
  block_number: number | null;
  amount: string;
  fee: string | null;
  net_amount: string | null;
  amount_usd: string | null;
  fee_usd: string | null;
  confirmations: number;
  required_confirmations: number;
  status: DepositStatus;
  failure_reason: string | null;
  simulated: boolean;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export type DepositEventType = 'deposit.detected' | 'deposit.confirming' | 'deposit.completed' | 'deposit.failed' | 'deposit.reversed';

/** A transition's result: the deposit as it now is, and the event it emitted, if any. */
export interface Transition {
  deposit: Deposit;
  eventId: string | null;
}

/** Records the transfer once (whoever reports it first) and emits `deposit.detected` that time only. */
export async function recordDetectedDeposit(db: Db, transfer: DepositTransfer): Promise<Transition> {
  return db.transaction().execute(async (transaction) => {
    const { deposit, inserted } = await insertDepositIfAbsent(transaction, {
      id: transfer.depositId,
      merchant_id: transfer.merchantId,
      livemode: transfer.livemode,
      customer_id: transfer.customerId,
      network: transfer.network,
      currency: transfer.currency,
      decimals: transfer.decimals,
      address: transfer.address,
      from_address: transfer.fromAddress,
      transaction_hash: transfer.transactionHash,
      log_index: transfer.logIndex,
      block_number: transfer.blockNumber === null ? null : BigInt(transfer.blockNumber),
      block_hash: transfer.blockHash,
      amount: BigInt(transfer.amount),
      required_confirmations: transfer.requiredConfirmations,
      status: 'detected',
      simulated: transfer.simulated,
    });
    // Whoever recorded it first (the API answering a simulate, say), the workflow delivers its event.
    const eventId = inserted ? await emit(transaction, deposit, 'deposit.detected') : await findDepositEventId(transaction, deposit, 'deposit.detected');
    return { deposit, eventId };
  });
}

/**
 * Records confirmations; the first one moves the deposit to confirming and emits
 * `deposit.confirming`. `first` says the caller expects that move: if an earlier attempt already
 * made it (an activity retried after its commit), the event it wrote is returned to be delivered.
 */
export async function recordConfirmations(db: Db, depositId: string, confirmations: number, blockHash: string | null, first = false): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status !== 'detected' && deposit.status !== 'confirming') return { deposit, eventId: null };
    const becomesConfirming = deposit.status === 'detected';
    if (!becomesConfirming && first) {
      const updated = await updateDeposit(transaction, deposit.id, { confirmations: Math.max(confirmations, deposit.confirmations) });
      return { deposit: updated, eventId: await findDepositEventId(transaction, deposit, 'deposit.confirming') };
    }
    const updated = await updateDeposit(transaction, deposit.id, {
      status: 'confirming',
      confirmations: Math.max(confirmations, deposit.confirmations),
      ...(blockHash ? { block_hash: blockHash } : {}),
    });
    return { deposit: updated, eventId: becomesConfirming ? await emit(transaction, updated, 'deposit.confirming') : null };
  });
}

/**
 * Completes the deposit at the captured USD price: applies the flat fee, books the ledger
 * (customer deposits → merchant balance net, → platform fees) and emits `deposit.completed`.
 */
export async function completeDeposit(db: Db, depositId: string, input: { confirmations: number; priceUsd: string }): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (!canTransition(deposit.status, 'completed')) return alreadyDone(transaction, deposit, 'completed', 'deposit.completed');
    const amount = BigInt(deposit.amount);
    const { fee, net, amountUsdCents, feeUsdCents } = computeFee({ amount, decimals: deposit.decimals, priceUsd: input.priceUsd });
    const completed = await updateDeposit(transaction, deposit.id, {
      status: 'completed',
      confirmations: Math.max(input.confirmations, deposit.confirmations),
      fee,
      net_amount: net,
      price_usd: input.priceUsd,
      amount_usd_cents: amountUsdCents,
      fee_usd_cents: feeUsdCents,
      completed_at: new Date(),
    });
    await bookLedgerTransaction(
      transaction,
      ledgerTransactionOf(completed, 'deposit', amountUsdCents, feeUsdCents),
      [
        { account: 'customer_deposits', amount: -amount },
        { account: 'merchant_balance', amount: net },
        { account: 'platform_fees', amount: fee },
      ],
    );
    return { deposit: completed, eventId: await emit(transaction, completed, 'deposit.completed') };
  });
}

/** Fails a deposit that has not completed (its block was reorganised away, or it stalled). */
export async function failDeposit(db: Db, depositId: string, reason: FailureReason): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status === 'completed' || !canTransition(deposit.status, 'failed')) return alreadyDone(transaction, deposit, 'failed', 'deposit.failed');
    const failed = await updateDeposit(transaction, deposit.id, { status: 'failed', failure_reason: reason });
    return { deposit: failed, eventId: await emit(transaction, failed, 'deposit.failed') };
  });
}

/** Reverses a completed deposit whose block left the canonical chain: the opposite booking, `deposit.reversed`. */
export async function reverseDeposit(db: Db, depositId: string): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status !== 'completed') return deposit.reversed_at ? alreadyDone(transaction, deposit, 'failed', 'deposit.reversed') : { deposit, eventId: null };
    const reversed = await updateDeposit(transaction, deposit.id, { status: 'failed', failure_reason: 'reorg', reversed_at: new Date() });
    const amount = BigInt(deposit.amount);
    await bookLedgerTransaction(
      transaction,
      ledgerTransactionOf(deposit, 'reversal', -BigInt(deposit.amount_usd_cents ?? 0), -BigInt(deposit.fee_usd_cents ?? 0)),
      [
        { account: 'customer_deposits', amount },
        { account: 'merchant_balance', amount: -BigInt(deposit.net_amount ?? 0) },
        { account: 'platform_fees', amount: -BigInt(deposit.fee ?? 0) },
      ],
    );
    return { deposit: reversed, eventId: await emit(transaction, reversed, 'deposit.reversed') };
  });
}

export function depositObject(deposit: Deposit): DepositObject {
  const amountOf = (units: string | null) => (units === null ? null : formatAmount(BigInt(units), deposit.decimals));
  const usdOf = (cents: string | null) => (cents === null ? null : formatUsdCents(BigInt(cents)));
  return {
    id: deposit.id,
    object: 'deposit',
    livemode: deposit.livemode,
    customer_id: deposit.customer_id,
    network: deposit.network,
    currency: deposit.currency,
    address: deposit.address,
    from_address: deposit.from_address,
    transaction_hash: deposit.transaction_hash,
    log_index: deposit.log_index,
    block_number: deposit.block_number === null ? null : Number(deposit.block_number),
    amount: amountOf(deposit.amount)!,
    fee: amountOf(deposit.fee),
    net_amount: amountOf(deposit.net_amount),
    amount_usd: usdOf(deposit.amount_usd_cents),
    fee_usd: usdOf(deposit.fee_usd_cents),
    confirmations: deposit.confirmations,
    required_confirmations: deposit.required_confirmations,
    status: deposit.status,
    failure_reason: deposit.failure_reason,
    simulated: deposit.simulated,
    created_at: deposit.created_at.toISOString(),
    updated_at: deposit.updated_at.toISOString(),
    completed_at: deposit.completed_at?.toISOString() ?? null,
  };
}

/**
 * A transition found already made: an earlier attempt of the activity committed it but its result
 * was lost (a crash, a timeout). Its event is returned again, so the workflow still delivers it;
 * delivering twice is harmless (deliveries are unique per event and endpoint).
 */
async function alreadyDone(transaction: Executor, deposit: Deposit, status: DepositStatus, type: DepositEventType): Promise<Transition> {
  return { deposit, eventId: deposit.status === status ? await findDepositEventId(transaction, deposit, type) : null };
}

async function transition(db: Db, depositId: string, change: (transaction: Executor, deposit: Deposit) => Promise<Transition>): Promise<Transition> {
  return db.transaction().execute(async (transaction) => {
    const deposit = await lockDepositById(transaction, depositId);
    if (!deposit) throw new Error(`deposit ${depositId} does not exist`);
    return change(transaction, deposit);
  });
}

function ledgerTransactionOf(deposit: Deposit, kind: 'deposit' | 'reversal', amountUsdCents: bigint, feeUsdCents: bigint) {
  return {
    id: newId('ledgerTransaction'),
    deposit_id: deposit.id,
    kind,
    merchant_id: deposit.merchant_id,
    livemode: deposit.livemode,
    network: deposit.network,
    currency: deposit.currency,
    amount_usd_cents: amountUsdCents,
    fee_usd_cents: feeUsdCents,
  };
}

async function emit(transaction: Executor, deposit: Deposit, type: DepositEventType): Promise<string> {
  const event = await insertEvent(transaction, {
    id: newId('event'),
    merchant_id: deposit.merchant_id,
    livemode: deposit.livemode,
    type,
    data: { ...depositObject(deposit) },
  });
  return event.id;
}
