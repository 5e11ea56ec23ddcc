/**
 * Booking a payout whose transaction is final (docs/payouts.md), whichever the network's family:
 * one database transaction for the merchant ledger, the holdings ledger, a refund's deposit and the
 * events; every write keyed or conditional, so a retry books nothing twice.
 */
import { inTransaction, type Db } from '../db/database';
import { bookLedgerTransaction } from '../balance/ledger.repository';
import { depositObject } from '../deposits/deposit.presenter';
import { activityFailureTypes, missing } from '../domain/failures';
import { convertUnits, unitsInUsdCents } from '../domain/fees';
import { newId } from '../domain/ids';
import { modeOf } from '../domain/mode';
import { currencyOn, networks, type Network } from '../domain/networks';
import { emit } from '../events/emitter';
import { payoutObject } from '../payouts/payout.presenter';
import { findPayoutById, transitionPayout } from '../payouts/payouts.repository';
import type { Payout } from '../payouts/payouts.table';
import { PriceUnavailableError } from '../prices/price-source';
import type { SweepConfirmation } from '../workflows/definitions';
import { bookHoldings, type HoldingsEntry } from './holdings.repository';
import { notConfigured, type TreasuryDeps } from './sweep-context';
import { updateSentTransaction } from './sweeps.repository';
import type { SentTransaction } from './treasury.table';

export async function payoutOf(deps: { db: Db }, payoutId: string): Promise<Payout> {
  const payout = await findPayoutById(deps.db, payoutId);
  if (!payout) throw missing(activityFailureTypes.payoutNotFound, 'payout', payoutId);
  return payout;
}

/** A final transaction's outcome, as either family's receipt says it: `fee` in the native coin's base units. */
export interface FinalReceipt {
  status: 'succeeded' | 'reverted';
  blockNumber: bigint;
  fee: bigint;
  /** Gas (EVM) or energy (Tron) it used. */
  gasUsed: bigint;
}

/** The payout's amount and `fee` in USD cents at the price now, for the ledger's figures; zero when there is no price (these figures never hold a booking up). */
async function usdCentsOf(deps: TreasuryDeps, payout: Payout, fee: bigint): Promise<{ amount: bigint; fee: bigint }> {
  try {
    const price = deps.prices ? await deps.prices[modeOf(payout.livemode)].priceUsd(payout.network as Network, payout.currency) : undefined;
    if (price === undefined) return { amount: 0n, fee: 0n };
    return { amount: unitsInUsdCents(BigInt(payout.amount), payout.decimals, price), fee: unitsInUsdCents(fee, payout.decimals, price) };
  } catch (error) {
    if (error instanceof PriceUnavailableError) return { amount: 0n, fee: 0n };
    throw error;
  }
}

/**
 * The fee the payout is charged: the fee held, or with `fee_basis` measured what its transaction
 * burned (`cost`, in the native coin), in the payout's currency at the prices now, never more than
 * the fee held. A measured fee waits for its prices (PriceUnavailable is retried): it is what the
 * transaction cost, never a guess.
 */
async function chargedFee(deps: TreasuryDeps, payout: Payout, cost: bigint): Promise<bigint> {
  const held = BigInt(payout.fee);
  if (payout.fee_basis !== 'measured') return held;
  const network = payout.network as Network;
  const native = networks[network].nativeCurrency;
  let measured = cost;
  if (payout.currency !== native) {
    if (!deps.prices) throw notConfigured(`payout ${payout.id}'s fee is measured, and this worker has no USD prices to convert it with`);
    const prices = deps.prices[modeOf(payout.livemode)];
    const [nativePrice, currencyPrice] = await Promise.all([prices.priceUsd(network, native), prices.priceUsd(network, payout.currency)]);
    measured = convertUnits(
      cost,
      { decimals: currencyOn(network, native)!.decimals, priceUsd: nativePrice },
      { decimals: payout.decimals, priceUsd: currencyPrice },
    );
  }
  return measured < held ? measured : held;
}

/**
 * Books the final transaction in one database transaction: the hot wallet's gas always; if it
 * succeeded, the amount from the hot wallet to `paid_out`, the merchant ledger's `payout` (the
 * balance pays the amount to `payouts_sent` and the fee to `platform_fees`), a refund's amount on
 * its deposit, and `payout.completed` (and `deposit.refunded`); if it reverted, the payout fails and
 * its hold is released (`payout.failed`). Every write is keyed or conditional: a retry books nothing twice.
 */
export async function bookPayout(
  deps: TreasuryDeps,
  payout: Payout,
  sent: SentTransaction,
  final: { receipt: FinalReceipt; hash: string },
): Promise<SweepConfirmation> {
  const { receipt } = final;
  const succeeded = receipt.status === 'succeeded';
  const amount = BigInt(payout.amount);
  const fee = succeeded ? await chargedFee(deps, payout, receipt.fee) : 0n;
  const usd = await usdCentsOf(deps, payout, fee);
  const nativeCurrency = networks[payout.network as Network].nativeCurrency;
  const holdings: HoldingsEntry[] = [
    { account: 'network_fees', currency: nativeCurrency, address: null, amount: receipt.fee },
    { account: 'treasury', currency: nativeCurrency, address: sent.from_address, amount: -receipt.fee },
  ];
  if (succeeded) {
    holdings.push({ account: 'treasury', currency: payout.currency, address: sent.from_address, amount: -amount });
    holdings.push({ account: 'paid_out', currency: payout.currency, address: null, amount });
  }
  await inTransaction(deps.db, async (transaction) => {
    await bookHoldings(transaction, { livemode: payout.livemode, network: payout.network, kind: 'payout', sourceId: sent.id }, holdings);
    await updateSentTransaction(transaction, sent.id, {
      status: succeeded ? 'confirmed' : 'failed',
      block_number: receipt.blockNumber.toString(),
      gas_used: receipt.gasUsed.toString(),
      fee: receipt.fee.toString(),
    });
    if (!succeeded) {
      const failed = await transitionPayout(transaction, payout.id, ['sending', 'broadcast'], 'failed', {
        transaction_hash: final.hash,
        failure_reason: `its transaction ${final.hash} reverted in block ${receipt.blockNumber}`,
        completed_at: new Date(),
      });
      if (failed) await emit(transaction, 'payout.failed', failed, payoutObject(failed));
      return;
    }
    const completed = await transitionPayout(transaction, payout.id, ['sending', 'broadcast'], 'completed', {
      transaction_hash: final.hash,
      completed_at: new Date(),
      // A measured fee becomes what was charged; what it held beyond that is free again.
      fee,
    });
    if (!completed) return;
    await bookLedgerTransaction(
      transaction,
      {
        id: newId('ledgerTransaction'),
        deposit_id: null,
        payout_id: payout.id,
        kind: 'payout',
        merchant_id: payout.merchant_id,
        livemode: payout.livemode,
        network: payout.network,
        currency: payout.currency,
        amount_usd_cents: -usd.amount,
        fee_usd_cents: usd.fee,
      },
      [
        { account: 'merchant_balance', amount: -(amount + fee) },
        { account: 'payouts_sent', amount },
        { account: 'platform_fees', amount: fee },
      ],
    );
    await emit(transaction, 'payout.completed', completed, payoutObject(completed));
    if (payout.deposit_id) {
      const refunded = await transaction
        .updateTable('deposits')
        .set((eb) => ({ amount_refunded: eb('amount_refunded', '+', amount.toString()), updated_at: new Date() }))
        .where('id', '=', payout.deposit_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await emit(transaction, 'deposit.refunded', refunded, depositObject(refunded));
    }
  });
  return succeeded ? { state: 'confirmed' } : { state: 'reverted' };
}
