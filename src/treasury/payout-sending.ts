/**
 * Paying a payout (docs/payouts.md): the steps its workflow runs, each safe to repeat.
 *
 * 1. send: once the hot wallet holds enough (else the payout waits, `queued`), the payout moves to
 *    `sending` and its transaction's nonce is taken, in one transaction (a cancel and a send can never
 *    both win); then signed (the signer checks the API's authorisation of exactly these terms, and
 *    signs one nonce per payout), recorded, broadcast (evm-sending.ts): a crash at any point signs the
 *    same request again or re-sends the same bytes, so a payout is broadcast at most once per nonce;
 * 2. confirm: followed to the network's confirmations (sent again if a reorg or a mempool lost it,
 *    replaced with a higher fee if stuck: the same nonce, so only one version can be mined); once
 *    final, booked once: the merchant ledger's `payout` (its balance pays the amount and the fee), the
 *    holdings ledger's (the hot wallet paid the amount and the gas), `payout.completed`; a revert
 *    books only the gas, and the payout fails, its hold released.
 *
 * The hot wallet (hot-wallet.ts) is the treasury: sweeps fill it, payouts empty it. On Tron, which
 * has no nonce, a payout is signed once as one transaction (tron-payouts.ts).
 */
import { inTransaction } from '../db/database';
import { emit } from '../events/emitter';
import { payoutObject } from '../payouts/payout.presenter';
import { transitionPayout } from '../payouts/payouts.repository';
import { sendableStatuses, type Payout } from '../payouts/payouts.table';
import { modeOf } from '../domain/mode';
import type { PayoutSend, SweepConfirmation } from '../workflows/definitions';
import { tokenTransferData, type FeeQuote } from './evm-chain';
import { followTransaction, signAndBroadcast } from './evm-sending';
import { committedFrom, lockHotWallet, payoutSource, shortfall, waitForHotWallet } from './hot-wallet';
import { bookPayout, payoutOf } from './payout-booking';
import { requireChain, sentOf, type TreasuryChain, type TreasuryDeps } from './sweep-context';
import { allocateSentTransaction, payoutTransactionOf } from './sweeps.repository';
import type { SentTransaction } from './treasury.table';
import { allocateTronPayout, confirmTronPayout } from './tron-payouts';
import { signAndBroadcastTron } from './tron-sending';

const NATIVE_TRANSFER_GAS = 21_000n;
/** Extra gas over the node's estimate, in percent: a token's transfer may cost a little more when mined. */
const GAS_MARGIN_PERCENT = 20n;

/** Step 1: the payout's transaction, sent once; or why it waits; or that it is over. */
export async function sendPayout(deps: TreasuryDeps, payoutId: string): Promise<PayoutSend> {
  const payout = await payoutOf(deps, payoutId);
  if (payout.status === 'completed' || payout.status === 'failed' || payout.status === 'canceled') return { state: 'over', status: payout.status };
  if (payout.status === 'requires_approval')
    return { state: 'queued', status: 'requires_approval', reason: 'waiting for a key with write on payout_approvals to approve it' };
  const config = requireChain(deps, payout.livemode, payout.network);
  let recorded = await payoutTransactionOf(deps.db, payout.id);
  if (!recorded) {
    const allocated = config.family === 'tron' ? await allocateTronPayout(deps, config, payout) : await allocate(deps, config, payout);
    if ('queued' in allocated)
      return {
        state: 'queued',
        status: 'queued',
        reason: allocated.queued,
        ...(allocated.operatorEventId && { operatorEventId: allocated.operatorEventId }),
      };
    if (!allocated.sent) {
      const now = await payoutOf(deps, payoutId);
      return { state: 'over', status: now.status === 'completed' || now.status === 'failed' ? now.status : 'canceled' };
    }
    recorded = allocated.sent;
  }
  const { sent, hash } =
    config.family === 'tron'
      ? await signAndBroadcastTron(deps, config.chain, recorded, payout.workflow_id).then((signed) => ({ sent: signed, hash: signed.hash! }))
      : await signAndBroadcast(deps, config, recorded, payout.workflow_id);
  await inTransaction(deps.db, async (transaction) => {
    const broadcast = await transitionPayout(transaction, payout.id, ['sending'], 'broadcast', { transaction_hash: hash, broadcast_at: new Date() });
    if (broadcast) await emit(transaction, 'payout.broadcast', broadcast, payoutObject(broadcast));
  });
  return { state: 'broadcast', sentId: sent.id, hash };
}

/**
 * The payout's transaction allocated (nonce and request recorded) as the payout moves to `sending`,
 * if the hot wallet holds enough beyond what payouts already being sent from it will take; else the
 * payout is `queued` with why. The check and the allocation run under one lock per hot wallet, so two
 * payouts never both count the same coin. `sent` undefined: canceled first.
 */
async function allocate(
  deps: TreasuryDeps,
  config: TreasuryChain,
  payout: Payout,
): Promise<{ queued: string; operatorEventId?: string } | { sent: SentTransaction | undefined }> {
  const { chain } = config;
  const { hotWallet, amount, native, token } = await payoutSource(deps, config, payout);
  const [fees, chainId, chainNonce, coin, held] = await Promise.all([
    chain.feeQuote(),
    chain.chainId(),
    chain.pendingNonce(hotWallet),
    chain.nativeBalance(hotWallet),
    native ? Promise.resolve(0n) : chain.tokenBalance(token!, hotWallet),
  ]);
  // A token transfer's gas is estimated only once the wallet holds the token: one it cannot pay reverts in the estimate.
  const gasLimit = native
    ? NATIVE_TRANSFER_GAS
    : held >= amount
      ? ((await chain.estimateGas({ from: hotWallet, to: token!, value: 0n, data: tokenTransferData(payout.destination, amount) })) *
          (100n + GAS_MARGIN_PERCENT)) /
        100n
      : undefined;
  return inTransaction(deps.db, async (transaction) => {
    await lockHotWallet(transaction, payout);
    const committed = await committedFrom(transaction, payout, hotWallet);
    const short = shortfall(payout, { address: hotWallet, coin, held }, committed, gasLimit === undefined ? undefined : gasLimit * fees.maxFeePerGas);
    if (short !== undefined) return waitForHotWallet(transaction, payout, hotWallet, short);
    // Not sendable (canceled meanwhile): nothing is allocated.
    const sending = await transitionPayout(transaction, payout.id, sendableStatuses, 'sending');
    if (!sending) return { sent: undefined };
    const sent = await allocateSentTransaction(
      transaction,
      {
        payoutId: payout.id,
        purpose: 'payout',
        livemode: payout.livemode,
        network: payout.network,
        from: hotWallet,
        to: native ? payout.destination : token!,
        chainNonce,
      },
      (nonce) => ({
        reason: `payout ${payout.id}: ${payout.amount} base units of ${payout.currency} to ${payout.destination}`,
        mode: modeOf(payout.livemode),
        network: payout.network,
        kind: 'payout',
        from: { wallet: 'hot' },
        payout: { id: payout.id, currency: payout.currency, amount: payout.amount, destination: payout.destination, authorization: payout.authorization },
        tx: {
          chain_id: Number(chainId),
          nonce: Number(nonce),
          to: native ? payout.destination : token!,
          value: native ? payout.amount : '0',
          data: native ? '0x' : tokenTransferData(payout.destination, amount),
          ...feeFields(gasLimit!, fees),
        },
      }),
    );
    return { sent };
  });
}

function feeFields(gasLimit: bigint, fees: FeeQuote) {
  return { gas_limit: gasLimit.toString(), max_fee_per_gas: fees.maxFeePerGas.toString(), max_priority_fee_per_gas: fees.maxPriorityFeePerGas.toString() };
}

/** Step 2: whether the payout's transaction is final; once it is, booked (or failed, if it reverted), once. */
export async function confirmPayout(deps: TreasuryDeps, sentId: string): Promise<SweepConfirmation> {
  const sent = await sentOf(deps, sentId);
  const payout = await payoutOf(deps, sent.payout_id!);
  if (payout.status === 'completed') return { state: 'confirmed' };
  if (payout.status === 'failed') return { state: 'reverted' };
  const config = requireChain(deps, payout.livemode, payout.network);
  if (config.family === 'tron') return confirmTronPayout(deps, config, payout, sent);
  const progress = await followTransaction(deps, config, sent, { workflowId: payout.workflow_id, movesBalance: false });
  if (progress.state === 'waiting') return progress;
  return bookPayout(deps, payout, sent, progress);
}

/** A payout that will not be sent (the signer refused it before anything was broadcast): failed, its hold released, `payout.failed`. */
export async function failPayout(deps: TreasuryDeps, payoutId: string, reason: string): Promise<void> {
  await inTransaction(deps.db, async (transaction) => {
    const failed = await transitionPayout(transaction, payoutId, ['requires_approval', 'pending', 'queued', 'sending'], 'failed', {
      failure_reason: reason,
      completed_at: new Date(),
    });
    if (failed) await emit(transaction, 'payout.failed', failed, payoutObject(failed));
  });
}
