/**
 * Payouts on Tron (docs/payouts.md#tron): the steps of payout-sending.ts where a transaction has no
 * nonce, and a token transfer burns TRX for its energy.
 *
 * Tron has no nonce to make two transactions of one payout exclusive: both could be mined. So a
 * payout is **signed once**, as one transaction, and the signer refuses any other for the same
 * payout (its rule `payout_once`). What makes that workable:
 *
 * - the transaction references the **solidified** block, which no reorg can take away, so it never
 *   fails its TaPoS check; and it lives PAYOUT_EXPIRATION_MS, long enough for a worker or a node
 *   to come back and send the same bytes again;
 * - its bytes are recorded before the signer is asked, its signature before it is broadcast: a
 *   retry asks for the same signature or sends the same bytes (`DUP_TRANSACTION_ERROR` is success);
 * - one in no block once the solidified chain is past its expiration can never be mined: the payout
 *   fails, its hold released, and nothing was paid. A reorg that drops it before then leaves it to be
 *   sent again.
 *
 * The hot wallet (m/44'/195'/2'/0/0, the Tron treasury) burns its own TRX for the energy and
 * bandwidth: the transaction's `fee_limit` bounds the energy, and the most it can cost is recorded
 * with the request (`max_cost`, never sent to the signer) for the hot wallet's accounting.
 */
import { inTransaction } from '../db/database';
import { encodeRawData, type TronContract } from '../chains/tron/transaction';
import { modeOf } from '../domain/mode';
import { emit } from '../events/emitter';
import { payoutObject } from '../payouts/payout.presenter';
import { transitionPayout } from '../payouts/payouts.repository';
import { sendableStatuses, type Payout } from '../payouts/payouts.table';
import type { SweepConfirmation } from '../workflows/definitions';
import { committedFrom, lockHotWallet, payoutSource, shortfall, waitForHotWallet } from './hot-wallet';
import { bookPayout } from './payout-booking';
import type { TronSignRequest } from './signer-client';
import type { TreasuryDeps, TronTreasury } from './sweep-context';
import { payoutTransactionOf, recordTronSentTransaction, updateSentTransaction } from './sweeps.repository';
import type { SentTransaction } from './treasury.table';
import { buildTronTransaction, hex41, tronTokenTransfer } from './tron-chain';
import { broadcastTron } from './tron-sending';

/**
 * How long a payout's transaction lives after the solidified block it references (about a minute
 * old): under the signer's default bound on expirations (600 s ahead of its clock).
 */
export const PAYOUT_EXPIRATION_MS = 540_000;
/** Bandwidth a transfer takes with room (a TRX transfer is about 270 bytes, a TRC-20 transfer about 345). */
const TRX_TRANSFER_BYTES = 300n;
const TOKEN_TRANSFER_BYTES = 400n;
/** Energy over the node's estimate, percent. */
const ENERGY_MARGIN_PERCENT = 10n;

/**
 * The payout's transaction built and recorded as the payout moves to `sending`, if the hot wallet
 * holds enough beyond what payouts already being sent from it will take; else the payout is
 * `queued` with why. `sent` undefined: canceled first.
 */
export async function allocateTronPayout(
  deps: TreasuryDeps,
  config: TronTreasury,
  payout: Payout,
): Promise<{ queued: string; operatorEventId?: string } | { sent: SentTransaction | undefined }> {
  const { chain } = config;
  const { hotWallet, amount, native, token } = await payoutSource(deps, config, payout);
  const [hotExists, destinationExists, coin, held, prices, reference] = await Promise.all([
    chain.accountExists(hotWallet),
    chain.accountExists(payout.destination),
    chain.nativeBalance(hotWallet),
    native ? Promise.resolve(0n) : chain.tokenBalance(token!, hotWallet),
    chain.prices(),
    chain.solidifiedReferenceBlock(),
  ]);
  const bandwidth = hotExists ? (await chain.resources(hotWallet)).bandwidth : 0n;
  const bytes = native ? TRX_TRANSFER_BYTES : TOKEN_TRANSFER_BYTES;
  const bandwidthBurn = bandwidth >= bytes ? 0n : bytes * prices.bandwidth;
  let contract: TronContract;
  let feeLimit = 0n;
  let cost: bigint | undefined;
  if (native) {
    contract = { type: 'TransferContract', owner_address: hex41(hotWallet), to_address: hex41(payout.destination), amount };
    // A transfer of TRX to an address without an account creates it, and its sender pays for that.
    cost = bandwidthBurn + (destinationExists ? 0n : prices.createAccount);
  } else {
    contract = tronTokenTransfer(token!, hotWallet, payout.destination, amount);
    // Energy is estimated only once the wallet holds the token: a transfer it cannot pay reverts in the estimate.
    if (held >= amount) {
      const energy = ((await chain.transferEnergy(token!, hotWallet, payout.destination, amount)) * (100n + ENERGY_MARGIN_PERCENT)) / 100n;
      feeLimit = energy * prices.energy;
      cost = feeLimit + bandwidthBurn;
    }
  }
  return inTransaction(deps.db, async (transaction) => {
    await lockHotWallet(transaction, payout);
    const recorded = await payoutTransactionOf(transaction, payout.id);
    if (recorded) return { sent: recorded };
    const short = shortfall(payout, { address: hotWallet, coin, held }, await committedFrom(transaction, payout, hotWallet), cost);
    if (short !== undefined) return waitForHotWallet(transaction, payout, hotWallet, short);
    // Not sendable (canceled meanwhile): nothing is recorded.
    if (!(await transitionPayout(transaction, payout.id, sendableStatuses, 'sending'))) return { sent: undefined };
    const raw = buildTronTransaction(contract, reference, { feeLimit, now: Date.now(), expirationMs: PAYOUT_EXPIRATION_MS });
    const request: Omit<TronSignRequest, 'request_id' | 'workflow_id'> = {
      reason: `payout ${payout.id}: ${payout.amount} base units of ${payout.currency} to ${payout.destination}`,
      mode: modeOf(payout.livemode),
      network: 'tron',
      kind: 'payout',
      from: { wallet: 'hot' },
      payout: { id: payout.id, currency: payout.currency, amount: payout.amount, destination: payout.destination, authorization: payout.authorization },
      raw_data_hex: Buffer.from(encodeRawData(raw)).toString('hex'),
    };
    const sent = await recordTronSentTransaction(
      transaction,
      {
        payoutId: payout.id,
        purpose: 'payout',
        livemode: payout.livemode,
        network: payout.network,
        from: hotWallet,
        to: native ? payout.destination : token!,
        expiresAt: new Date(raw.expiration),
      },
      { ...request, max_cost: cost!.toString() },
    );
    return { sent };
  });
}

/**
 * Whether the payout's transaction is final; once it is, booked (or failed, if it reverted), once.
 * One in no block when the solidified chain has passed its expiration can never be mined: the
 * payout fails and its hold is released.
 */
export async function confirmTronPayout(deps: TreasuryDeps, config: TronTreasury, payout: Payout, sent: SentTransaction): Promise<SweepConfirmation> {
  const { chain, confirmations } = config;
  // The solidified time is read first: once it is past the expiration, every block that could hold the transaction is
  // solidified, and the receipt read next is the last word.
  const expired = sent.expires_at !== null && (await chain.solidifiedTimestamp()) > sent.expires_at.getTime();
  const receipt = await chain.receipt(sent.hash!);
  if (receipt) {
    const depth = Number((await chain.headNumber()) - receipt.blockNumber + 1n);
    if (depth < confirmations) return { state: 'waiting', confirmations: depth, required: confirmations };
    return bookPayout(deps, payout, sent, {
      receipt: { status: receipt.status, blockNumber: receipt.blockNumber, fee: receipt.fee, gasUsed: receipt.energyUsed },
      hash: sent.hash!,
    });
  }
  if (expired) return expirePayout(deps, payout, sent);
  const refused = await broadcastTron(chain, sent);
  return { state: 'waiting', confirmations: 0, ...(refused && { stuck: refused }) };
}

/** The payout whose transaction expired unmined: nothing was paid, so it fails and what it held is free again. */
async function expirePayout(deps: TreasuryDeps, payout: Payout, sent: SentTransaction): Promise<SweepConfirmation> {
  const reason = `its transaction ${sent.hash} expired unmined at ${sent.expires_at!.toISOString()}: nothing was paid`;
  await inTransaction(deps.db, async (transaction) => {
    await updateSentTransaction(transaction, sent.id, { status: 'failed' });
    const failed = await transitionPayout(transaction, payout.id, ['sending', 'broadcast'], 'failed', {
      transaction_hash: sent.hash,
      failure_reason: reason,
      completed_at: new Date(),
    });
    if (failed) await emit(transaction, 'payout.failed', failed, payoutObject(failed));
  });
  return { state: 'reverted', reason };
}
