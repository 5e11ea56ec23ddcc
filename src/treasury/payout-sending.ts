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
 * The hot wallet is the treasury (m/44'/60'/2'/0/0 at the signer): sweeps fill it, payouts empty it,
 * and one holdings account says what it holds.
 */
import { sql } from 'kysely';
import { inTransaction, type Executor } from '../db/database';
import { bookLedgerTransaction } from '../balance/ledger.repository';
import { depositObject } from '../deposits/deposit.presenter';
import { activityFailureTypes, missing } from '../domain/failures';
import { unitsInUsdCents } from '../domain/fees';
import { newId } from '../domain/ids';
import { modeOf } from '../domain/mode';
import { networks, type Network } from '../domain/networks';
import { emit, emitOperatorEvent } from '../events/emitter';
import { payoutObject } from '../payouts/payout.presenter';
import { findPayoutById, transitionPayout } from '../payouts/payouts.repository';
import { sendableStatuses, type Payout } from '../payouts/payouts.table';
import { PriceUnavailableError } from '../prices/price-source';
import type { PayoutSend, SweepConfirmation } from '../workflows/definitions';
import { tokenTransferData, type FeeQuote } from './evm-chain';
import { followTransaction, signAndBroadcast, type TxRequest } from './evm-sending';
import { bookHoldings, type HoldingsEntry } from './holdings.repository';
import { notConfigured, requireEvmChain, requireSigner, sentOf, type TreasuryChain, type TreasuryDeps } from './sweep-context';
import { allocateSentTransaction, payoutTransactionOf, updateSentTransaction } from './sweeps.repository';
import type { SentTransaction } from './treasury.table';
import type { Receipt } from './evm-chain';

const NATIVE_TRANSFER_GAS = 21_000n;
/** Extra gas over the node's estimate, in percent: a token's transfer may cost a little more when mined. */
const GAS_MARGIN_PERCENT = 20n;

async function payoutOf(deps: TreasuryDeps, payoutId: string): Promise<Payout> {
  const payout = await findPayoutById(deps.db, payoutId);
  if (!payout) throw missing(activityFailureTypes.payoutNotFound, 'payout', payoutId);
  return payout;
}

const isNativePayout = (payout: Payout) => payout.currency === networks[payout.network as Network].nativeCurrency;

/**
 * The hot wallet payouts are sent from: the signer's (m/44'/60'/2'/0/0), which must be the treasury
 * sweeps fill, or payouts would empty an address nothing refills and no holdings account follows.
 */
export async function hotWalletOf(deps: TreasuryDeps, livemode: boolean, network: string): Promise<string> {
  const mode = modeOf(livemode);
  const health = await requireSigner(deps).health();
  const hot = health.hot_wallets?.[mode];
  const treasury = health.treasuries[mode]?.[network as Network];
  if (!hot) throw notConfigured(`The signer has no ${mode}-mode hot wallet (no ${mode}-mode key): no payout can be sent.`);
  if (!treasury)
    throw notConfigured(`The signer has no ${mode}-mode treasury for ${network} (INFLOW_TREASURY_${network.toUpperCase()}_${mode.toUpperCase()}).`);
  if (hot.toLowerCase() !== treasury.toLowerCase())
    throw notConfigured(
      `Payouts are sent from the signer's hot wallet ${hot} (m/44'/60'/2'/0/0), which must be ${network}'s ${mode}-mode treasury, so that sweeps fill it; the treasury is ${treasury} (INFLOW_TREASURY_${network.toUpperCase()}_${mode.toUpperCase()}).`,
    );
  return hot;
}

/** Step 1: the payout's transaction, sent once; or why it waits; or that it is over. */
export async function sendPayout(deps: TreasuryDeps, payoutId: string): Promise<PayoutSend> {
  const payout = await payoutOf(deps, payoutId);
  if (payout.status === 'completed' || payout.status === 'failed' || payout.status === 'canceled') return { state: 'over', status: payout.status };
  if (payout.status === 'requires_approval') return { state: 'queued', reason: 'waiting for a key with write on payout_approvals to approve it' };
  const config = requireEvmChain(deps, payout.livemode, payout.network);
  let recorded = await payoutTransactionOf(deps.db, payout.id);
  if (!recorded) {
    const allocated = await allocate(deps, config, payout);
    if ('queued' in allocated)
      return { state: 'queued', reason: allocated.queued, ...(allocated.operatorEventId && { operatorEventId: allocated.operatorEventId }) };
    if (!allocated.sent) {
      const now = await payoutOf(deps, payoutId);
      return { state: 'over', status: now.status === 'completed' || now.status === 'failed' ? now.status : 'canceled' };
    }
    recorded = allocated.sent;
  }
  const { sent, hash } = await signAndBroadcast(deps, config, recorded, payout.workflow_id);
  await inTransaction(deps.db, async (transaction) => {
    const broadcast = await transitionPayout(transaction, payout.id, ['sending'], 'broadcast', { transaction_hash: hash, broadcast_at: new Date() });
    if (broadcast) await emit(transaction, 'at-commit', 'payout.broadcast', broadcast, payoutObject(broadcast));
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
  const hotWallet = await hotWalletOf(deps, payout.livemode, payout.network);
  const amount = BigInt(payout.amount);
  const native = isNativePayout(payout);
  const token = native ? undefined : config.tokens.find((candidate) => candidate.currency === payout.currency)?.address;
  if (!native && !token) throw notConfigured(`No ${payout.currency} contract is configured for ${payout.network} in ${modeOf(payout.livemode)} mode.`);
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
    await sql`select pg_advisory_xact_lock(hashtext('hot-wallet:' || ${modeOf(payout.livemode)} || ':' || ${payout.network}))`.execute(transaction);
    const committed = await committedFrom(transaction, payout, hotWallet);
    const short = shortfall(payout, { address: hotWallet, coin, held }, committed, gasLimit === undefined ? undefined : gasLimit * fees.maxFeePerGas);
    if (short !== undefined) {
      const queued = await transitionPayout(transaction, payout.id, ['pending'], 'queued');
      // The operator hears when a queue forms (this payout the first waiting on the hot wallet), not of every payout in it.
      const operatorEvent =
        queued && (await firstInQueue(transaction, payout))
          ? await emitOperatorEvent(transaction, 'payouts.queued', payout.livemode, {
              network: payout.network,
              currency: payout.currency,
              payout_id: payout.id,
              hot_wallet: hotWallet,
              reason: short,
            })
          : undefined;
      return { queued: short, ...(operatorEvent && { operatorEventId: operatorEvent.id }) };
    }
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

/**
 * Why the hot wallet cannot cover the payout now, beyond what payouts already being sent from it take
 * (`committed`); undefined when it can. `gas`: the most the transaction can cost (undefined: a token
 * the wallet does not hold enough of, so no estimate).
 */
function shortfall(
  payout: Payout,
  wallet: { address: string; coin: bigint; held: bigint },
  committed: { native: bigint; currency: bigint },
  gas: bigint | undefined,
): string | undefined {
  const amount = BigInt(payout.amount);
  const says = (what: string, has: bigint, taken: bigint, needs: bigint) =>
    `the hot wallet ${wallet.address} holds ${has} ${what}, of which payouts being sent take ${taken}; this payout needs ${needs}`;
  const nativeUnit = `${networks[payout.network as Network].nativeCurrency} base units`;
  if (isNativePayout(payout))
    return wallet.coin - committed.native < amount + gas! ? says(nativeUnit, wallet.coin, committed.native, amount + gas!) : undefined;
  if (gas === undefined || wallet.held - committed.currency < amount) return says(`${payout.currency} base units`, wallet.held, committed.currency, amount);
  if (wallet.coin - committed.native < gas) return says(`${nativeUnit} for gas`, wallet.coin, committed.native, gas);
  return undefined;
}

/** Whether no other payout of the mode and network is waiting on the hot wallet: this one starts a queue. */
async function firstInQueue(transaction: Executor, payout: Payout): Promise<boolean> {
  const other = await transaction
    .selectFrom('payouts')
    .select('id')
    .where('livemode', '=', payout.livemode)
    .where('network', '=', payout.network)
    .where('status', '=', 'queued')
    .where('id', '<>', payout.id)
    .executeTakeFirst();
  return other === undefined;
}

function feeFields(gasLimit: bigint, fees: FeeQuote) {
  return { gas_limit: gasLimit.toString(), max_fee_per_gas: fees.maxFeePerGas.toString(), max_priority_fee_per_gas: fees.maxPriorityFeePerGas.toString() };
}

/**
 * What payouts already being sent from the hot wallet will take of it (their amounts, and the most
 * their gas can cost): their transactions may or may not be mined yet, so the chain's balance cannot
 * say. One mined and not yet completed is counted twice, which only makes a payout wait longer.
 */
async function committedFrom(transaction: Executor, payout: Payout, hotWallet: string): Promise<{ native: bigint; currency: bigint }> {
  const nativeCurrency = networks[payout.network as Network].nativeCurrency;
  const { rows } = await sql<{ native: string; currency: string }>`
    select coalesce(sum(case when p.currency = ${nativeCurrency} then p.amount else 0 end)
                    + sum((s.request->'tx'->>'gas_limit')::numeric * (s.request->'tx'->>'max_fee_per_gas')::numeric), 0)::text as native,
           coalesce(sum(case when p.currency = ${payout.currency} then p.amount else 0 end), 0)::text as currency
      from payouts p join treasury_transactions_sent s on s.payout_id = p.id
     where p.livemode = ${payout.livemode} and p.network = ${payout.network} and p.status in ('sending', 'broadcast')
       and s.from_address = ${hotWallet} and p.id <> ${payout.id}`.execute(transaction);
  return { native: BigInt(rows[0]!.native), currency: BigInt(rows[0]!.currency) };
}

/** Step 2: whether the payout's transaction is final; once it is, booked (or failed, if it reverted), once. */
export async function confirmPayout(deps: TreasuryDeps, sentId: string): Promise<SweepConfirmation> {
  const sent = await sentOf(deps, sentId);
  const payout = await payoutOf(deps, sent.payout_id!);
  if (payout.status === 'completed') return { state: 'confirmed' };
  if (payout.status === 'failed') return { state: 'reverted' };
  const config = requireEvmChain(deps, payout.livemode, payout.network);
  const progress = await followTransaction(deps, config, sent, { workflowId: payout.workflow_id, movesBalance: false });
  if (progress.state === 'waiting') return progress;
  const usd = await usdCentsOf(deps, payout);
  return bookPayout(deps.db, payout, sent, progress, usd);
}

/** The payout's amount and fee in USD cents at the price now, for the ledger's figures; zero when there is no price (the booking never waits on one). */
async function usdCentsOf(deps: TreasuryDeps, payout: Payout): Promise<{ amount: bigint; fee: bigint }> {
  try {
    const price = deps.prices ? await deps.prices[modeOf(payout.livemode)].priceUsd(payout.network as Network, payout.currency) : undefined;
    if (price === undefined) return { amount: 0n, fee: 0n };
    return { amount: unitsInUsdCents(BigInt(payout.amount), payout.decimals, price), fee: unitsInUsdCents(BigInt(payout.fee), payout.decimals, price) };
  } catch (error) {
    if (error instanceof PriceUnavailableError) return { amount: 0n, fee: 0n };
    throw error;
  }
}

/**
 * Books the final transaction in one database transaction: the hot wallet's gas always; if it
 * succeeded, the amount from the hot wallet to `paid_out`, the merchant ledger's `payout` (the
 * balance pays the amount to `payouts_sent` and the fee to `platform_fees`), a refund's amount on
 * its deposit, and `payout.completed` (and `deposit.refunded`); if it reverted, the payout fails and
 * its hold is released (`payout.failed`). Every write is keyed or conditional: a retry books nothing twice.
 */
async function bookPayout(
  db: Executor,
  payout: Payout,
  sent: SentTransaction,
  final: { receipt: Receipt; request: TxRequest; hash: string },
  usd: { amount: bigint; fee: bigint },
): Promise<SweepConfirmation> {
  const { receipt } = final;
  const succeeded = receipt.status === 'succeeded';
  const amount = BigInt(payout.amount);
  const fee = BigInt(payout.fee);
  const nativeCurrency = networks[payout.network as Network].nativeCurrency;
  const holdings: HoldingsEntry[] = [
    { account: 'network_fees', currency: nativeCurrency, address: null, amount: receipt.fee },
    { account: 'treasury', currency: nativeCurrency, address: sent.from_address, amount: -receipt.fee },
  ];
  if (succeeded) {
    holdings.push({ account: 'treasury', currency: payout.currency, address: sent.from_address, amount: -amount });
    holdings.push({ account: 'paid_out', currency: payout.currency, address: null, amount });
  }
  await inTransaction(db, async (transaction) => {
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
      if (failed) await emit(transaction, 'at-commit', 'payout.failed', failed, payoutObject(failed));
      return;
    }
    const completed = await transitionPayout(transaction, payout.id, ['sending', 'broadcast'], 'completed', {
      transaction_hash: final.hash,
      completed_at: new Date(),
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
    await emit(transaction, 'at-commit', 'payout.completed', completed, payoutObject(completed));
    if (payout.deposit_id) {
      const refunded = await transaction
        .updateTable('deposits')
        .set((eb) => ({ amount_refunded: eb('amount_refunded', '+', amount.toString()), updated_at: new Date() }))
        .where('id', '=', payout.deposit_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await emit(transaction, 'at-commit', 'deposit.refunded', refunded, depositObject(refunded));
    }
  });
  return succeeded ? { state: 'confirmed' } : { state: 'reverted' };
}

/** A payout that will not be sent (the signer refused it before anything was broadcast): failed, its hold released, `payout.failed`. */
export async function failPayout(deps: TreasuryDeps, payoutId: string, reason: string): Promise<void> {
  await inTransaction(deps.db, async (transaction) => {
    const failed = await transitionPayout(transaction, payoutId, ['requires_approval', 'pending', 'queued', 'sending'], 'failed', {
      failure_reason: reason,
      completed_at: new Date(),
    });
    if (failed) await emit(transaction, 'at-commit', 'payout.failed', failed, payoutObject(failed));
  });
}
