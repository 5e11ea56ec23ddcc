/**
 * A deposit's transitions as rows: each is one database transaction that updates the deposit,
 * books the ledger when money moves, and emits the deposit's event, whose deliveries it hands back
 * to the deposit's workflow (events/emitter.ts). Every function is idempotent, so an activity may
 * be retried; each runs in the caller's transaction when given one.
 */
import { inTransaction, type Executor } from '../db/database';
import { insertDepositIfAbsent, lockDepositById, updateDeposit } from './deposits.repository';
import { findObjectEventId } from '../events/events.repository';
import { bookLedgerTransaction } from '../balance/ledger.repository';
import type { Deposit, NewDeposit } from './deposits.table';
import { canTransition, type DepositStatus, type FailureReason } from '../domain/deposit-state';
import type { DepositEventType, EmittedEvent } from '../domain/events';
import { activityFailureTypes, missing } from '../domain/failures';
import { computeFee } from '../domain/fees';
import { newId } from '../domain/ids';
import type { DepositTransfer } from '../domain/transfers';
import { emit, emittedBefore } from '../events/emitter';
import { paidAt } from '../orders/order.presenter';
import { notePaymentToOrder, resettleOrder } from '../orders/settlement';
import { depositObject } from './deposit.presenter';

/**
 * A transition's result: the deposit as it now is, and the event it emitted, if any (its deliveries
 * are queued with it for the outbox relay: `deliveries` is empty, see EmittedEvent).
 */
export interface Transition extends Required<EmittedEvent> {
  deposit: Deposit;
}

/** A transition that emits nothing. */
const nothingEmitted: Required<EmittedEvent> = Object.freeze({ eventId: null, deliveries: [] });

/** Records the transfer once (whoever reports it first) and emits `deposit.detected` that time only. */
export async function recordDetectedDeposit(db: Executor, transfer: DepositTransfer): Promise<Transition> {
  return inTransaction(db, async (transaction) => {
    const { deposit, inserted } = await insertDepositIfAbsent(transaction, newDepositOf(transfer));
    if (inserted && transfer.orderId) await notePaymentToOrder(transaction, transfer.orderId, paidAt(deposit));
    // Whoever recorded it first (the API answering a simulate, say), the workflow delivers its event.
    const emitted = inserted
      ? await emitAbout(transaction, deposit, 'deposit.detected')
      : await emittedBefore(transaction, await findObjectEventId(transaction, deposit, 'deposit.detected'));
    return { deposit, ...emitted };
  });
}

/** The row a transfer is recorded as, detected. */
function newDepositOf(transfer: DepositTransfer): NewDeposit {
  return {
    id: transfer.depositId,
    merchant_id: transfer.merchantId,
    livemode: transfer.livemode,
    customer_id: transfer.customerId,
    order_id: transfer.orderId ?? null,
    network: transfer.network,
    currency: transfer.currency,
    decimals: transfer.decimals,
    address: transfer.address,
    from_address: transfer.fromAddress,
    transaction_hash: transfer.transactionHash,
    log_index: transfer.logIndex,
    legacy_log_index: transfer.legacyLogIndex ?? false,
    block_number: transfer.blockNumber === null ? null : BigInt(transfer.blockNumber),
    block_hash: transfer.blockHash,
    block_time: transfer.blockTime ? new Date(transfer.blockTime) : null,
    amount: BigInt(transfer.amount),
    required_confirmations: transfer.requiredConfirmations,
    status: 'detected',
    simulated: transfer.simulated,
  };
}

/**
 * Records a transfer below its currency's dust threshold, once, as `dust`: no workflow, no event,
 * no booking (`domain/dust.ts`). Resolves to whether this call recorded it.
 */
export async function recordDustDeposit(db: Executor, transfer: DepositTransfer): Promise<boolean> {
  const { inserted } = await insertDepositIfAbsent(db, { ...newDepositOf(transfer), status: 'dust' });
  return inserted;
}

/**
 * Records confirmations; the first one moves the deposit to confirming and emits
 * `deposit.confirming`. `first` says the caller expects that move: if an earlier attempt already
 * made it (an activity retried after its commit), the event it wrote is returned to be delivered.
 * A report from another block (a reorg moved the transaction, and its receipt there was read
 * again) moves the deposit to that block, with the confirmations counted there, fewer or more.
 */
export async function recordConfirmations(
  db: Executor,
  depositId: string,
  report: { confirmations: number; blockHash: string | null; blockNumber?: number | null | undefined; first?: boolean | undefined },
): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status !== 'detected' && deposit.status !== 'confirming') return { deposit, ...nothingEmitted };
    const moved = report.blockHash !== null && report.blockHash !== deposit.block_hash;
    const block = moved ? { block_hash: report.blockHash, ...(report.blockNumber != null ? { block_number: BigInt(report.blockNumber) } : {}) } : {};
    const confirmations = moved ? report.confirmations : Math.max(report.confirmations, deposit.confirmations);
    const becomesConfirming = deposit.status === 'detected';
    if (!becomesConfirming && report.first) {
      const updated = await updateDeposit(transaction, deposit.id, { confirmations, ...block });
      return { deposit: updated, ...(await emittedBefore(transaction, await findObjectEventId(transaction, deposit, 'deposit.confirming'))) };
    }
    const updated = await updateDeposit(transaction, deposit.id, { status: 'confirming', confirmations, ...block });
    return { deposit: updated, ...(becomesConfirming ? await emitAbout(transaction, updated, 'deposit.confirming') : nothingEmitted) };
  });
}

/**
 * Completes the deposit at the captured USD price: applies the flat fee, books the ledger
 * (customer deposits → merchant balance net, → platform fees) and emits `deposit.completed`.
 */
export async function completeDeposit(
  db: Executor,
  depositId: string,
  input: { confirmations: number; priceUsd: string; blockHash?: string | null | undefined; blockNumber?: number | null | undefined },
): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    // A late deposit (failed by timeout) completes too: its money arrived after all.
    if (!canTransition(deposit.status, 'completed', deposit.failure_reason)) return alreadyDone(transaction, deposit, 'completed', 'deposit.completed');
    const amount = BigInt(deposit.amount);
    const { fee, net, amountUsdCents, feeUsdCents } = computeFee({ amount, decimals: deposit.decimals, priceUsd: input.priceUsd });
    const completed = await updateDeposit(transaction, deposit.id, {
      status: 'completed',
      failure_reason: null,
      confirmations: Math.max(input.confirmations, deposit.confirmations),
      fee,
      net_amount: net,
      price_usd: input.priceUsd,
      amount_usd_cents: amountUsdCents,
      fee_usd_cents: feeUsdCents,
      completed_at: new Date(),
      ...(input.blockHash ? { block_hash: input.blockHash } : {}),
      ...(input.blockHash && input.blockNumber != null ? { block_number: BigInt(input.blockNumber) } : {}),
    });
    await bookLedgerTransaction(transaction, ledgerTransactionOf(completed, 'deposit', amountUsdCents, feeUsdCents), [
      { account: 'customer_deposits', amount: -amount },
      { account: 'merchant_balance', amount: net },
      { account: 'platform_fees', amount: fee },
    ]);
    // A settled order follows its payments (one that timed out and completes now may complete it).
    if (completed.order_id) await resettleOrder(transaction, completed.order_id);
    return { deposit: completed, ...(await emitAbout(transaction, completed, 'deposit.completed')) };
  });
}

/** Fails a deposit that has not completed (its block was reorganised away, or it stalled). */
export async function failDeposit(db: Executor, depositId: string, reason: FailureReason): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status === 'completed' || !canTransition(deposit.status, 'failed')) return alreadyDone(transaction, deposit, 'failed', 'deposit.failed');
    const failed = await updateDeposit(transaction, deposit.id, { status: 'failed', failure_reason: reason });
    return { deposit: failed, ...(await emitAbout(transaction, failed, 'deposit.failed')) };
  });
}

/**
 * Re-opens a deposit that a reorg failed or reversed, now that its same transfer is back in a
 * canonical block: detected again at that block, for what the transfer pays there, with
 * `deposit.detected` again, and a new inclusion, under which it confirms, completes and books
 * once more (the fee and the figures of the earlier inclusion are replaced at completion). Only a reorg's failure is
 * re-opened; anything else (already re-opened by an earlier attempt, say) is left as it is.
 */
export async function reopenDeposit(
  db: Executor,
  depositId: string,
  inclusion: { blockNumber: number | null; blockHash: string | null; blockTime?: number | null | undefined; amount: string },
): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (!canTransition(deposit.status, 'detected', deposit.failure_reason)) {
      return {
        deposit,
        ...(deposit.status === 'detected'
          ? await emittedBefore(transaction, await findObjectEventId(transaction, deposit, 'deposit.detected'))
          : nothingEmitted),
      };
    }
    const reopened = await updateDeposit(transaction, deposit.id, {
      status: 'detected',
      failure_reason: null,
      confirmations: 0,
      inclusion: deposit.inclusion + 1,
      amount: BigInt(inclusion.amount),
      ...(inclusion.blockNumber !== null ? { block_number: BigInt(inclusion.blockNumber) } : {}),
      ...(inclusion.blockHash !== null ? { block_hash: inclusion.blockHash } : {}),
      ...(inclusion.blockTime ? { block_time: new Date(inclusion.blockTime) } : {}),
    });
    if (reopened.order_id) await notePaymentToOrder(transaction, reopened.order_id, paidAt(reopened));
    return { deposit: reopened, ...(await emitAbout(transaction, reopened, 'deposit.detected')) };
  });
}

/** Reverses a completed deposit whose block left the canonical chain: the opposite booking, `deposit.reversed`. */
export async function reverseDeposit(db: Executor, depositId: string): Promise<Transition> {
  return transition(db, depositId, async (transaction, deposit) => {
    if (deposit.status !== 'completed')
      return deposit.reversed_at ? alreadyDone(transaction, deposit, 'failed', 'deposit.reversed') : { deposit, ...nothingEmitted };
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
    // A settled order follows its payments: a reversal can take its completion away.
    if (reversed.order_id) await resettleOrder(transaction, reversed.order_id);
    return { deposit: reversed, ...(await emitAbout(transaction, reversed, 'deposit.reversed')) };
  });
}

/**
 * A transition found already made: an earlier attempt of the activity committed it but its result
 * was lost (a crash, a timeout). Its event is returned again, so the workflow still delivers it;
 * delivering twice is harmless (deliveries are unique per event and endpoint).
 */
async function alreadyDone(transaction: Executor, deposit: Deposit, status: DepositStatus, type: DepositEventType): Promise<Transition> {
  return { deposit, ...(deposit.status === status ? await emittedBefore(transaction, await findObjectEventId(transaction, deposit, type)) : nothingEmitted) };
}

async function transition(db: Executor, depositId: string, change: (transaction: Executor, deposit: Deposit) => Promise<Transition>): Promise<Transition> {
  return inTransaction(db, async (transaction) => {
    const deposit = await lockDepositById(transaction, depositId);
    if (!deposit) throw missing(activityFailureTypes.depositNotFound, 'deposit', depositId);
    return change(transaction, deposit);
  });
}

function ledgerTransactionOf(deposit: Deposit, kind: 'deposit' | 'reversal', amountUsdCents: bigint, feeUsdCents: bigint) {
  return {
    id: newId('ledgerTransaction'),
    deposit_id: deposit.id,
    kind,
    inclusion: deposit.inclusion,
    merchant_id: deposit.merchant_id,
    livemode: deposit.livemode,
    network: deposit.network,
    currency: deposit.currency,
    amount_usd_cents: amountUsdCents,
    fee_usd_cents: feeUsdCents,
  };
}

/** The deposit's event; its deliveries are queued with it, so the deposit's workflow starts none. */
async function emitAbout(transaction: Executor, deposit: Deposit, type: DepositEventType): Promise<Required<EmittedEvent>> {
  const { eventId, deliveries } = await emit(transaction, type, deposit, depositObject(deposit));
  return { eventId, deliveries };
}
