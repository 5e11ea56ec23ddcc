/**
 * Sweeps (docs/treasury.md): moving what deposit addresses hold to the treasury. The steps a sweep
 * workflow runs, each safe to repeat, as they run on EVM networks (a Tron sweep's steps are
 * tron-sweeps.ts, reached from here by the network's family):
 *
 * 1. plan: the deposits' bookings mirrored into the holdings ledger; one sweep recorded per address
 *    and currency holding at least the minimum (never two under way for one address and currency);
 * 2. prepare: what the address holds on the chain (at most what the ledger says it holds: money the
 *    ledger does not know of is reconciliation's to explain, not a sweep's to move); a token needs
 *    native coin for gas, so the gas it lacks is topped up from the gas wallet first;
 * 3. send (a top-up, then the sweep): the sender's nonce allocated and recorded with the request
 *    before anything is signed, the signed bytes recorded before they are broadcast, so a retry
 *    after a crash at any point signs the same request (the signer is deterministic) or re-sends the
 *    same bytes: a transfer can never be paid twice;
 * 4. confirm: the receipt, at the network's confirmations; a transaction the node forgot (a reorg,
 *    a dropped mempool) is sent again, the same bytes; one still unmined `stuckAfterBlocks` after
 *    it was signed is replaced by a version with a higher fee and the same nonce (recorded
 *    before it is signed, kept with every earlier version: whichever is mined, only one can be);
 *    once final its movements and its fee are booked in the holdings ledger, once.
 */
import { newId } from '../domain/ids';
import { modeOf } from '../domain/mode';
import { currencyOn, networks, type Network } from '../domain/networks';
import { catchUpDepositHoldings } from './holdings.repository';
import { tokenTransferData, type EvmTreasuryChain } from './evm-chain';
import { followTransaction, min, signAndBroadcast } from './evm-sending';
import {
  bookFinal,
  isNative,
  ledgerHolding,
  requireChain,
  requireEvmChain,
  sentOf,
  sweepOf,
  tokenOf,
  walletsOf,
  type Confirmation,
  type SentRef,
  type SweepPlan,
  type AnyTreasuryChain,
  type TreasuryChain,
  type TreasuryDeps,
} from './sweep-context';
import { usdCentsInUnits } from '../domain/fees';
import { PriceUnavailableError } from '../prices/price-source';
import { allocateSentTransaction, insertSweepIfNone, sentTransactionOf, sweepCandidates, updateSweep } from './sweeps.repository';
import type { SweepPurpose, SentTransaction, Sweep } from './treasury.table';
import { confirmTronSweepTransaction, prepareTronSweep, sendTronSweepTransaction } from './tron-sweeps';

export type { AnyTreasuryChain, Confirmation, SentRef, SweepPlan, TreasuryChain, TreasuryDeps, TronTreasury } from './sweep-context';

export interface PlannedSweep {
  sweepId: string;
  workflowId: string;
}

export function sweepWorkflowId(sweep: { livemode: boolean; network: string; address: string; currency: string; id: string }): string {
  return `sweep:${modeOf(sweep.livemode)}:${sweep.network}:${sweep.address}:${sweep.currency}:${sweep.id}`;
}

/** Extra gas over the node's estimate, in percent: a token's transfer may cost a little more when mined. */
const GAS_MARGIN_PERCENT = 20n;
const NATIVE_TRANSFER_GAS = 21_000n;
/** The fewest blocks after its signing a transaction stays unmined before it is stuck (its fee too low for the chain now); per network, see treasury-deps.ts. */
export const STUCK_AFTER_BLOCKS = 10;

const isTron = (network: string) => networks[network as Network]?.family === 'tron';

/** More than any balance: a currency whose USD minimum cannot be priced now is not swept this run. */
const UNPRICED = 2n ** 256n;

/**
 * The least worth sweeping of each currency of the network: INFLOW_SWEEP_MIN_USD in base units at
 * the USD price now, where it applies; else the currency's unit minimum. A currency that cannot be
 * priced now waits for the next run: a sweep worth less than its gas would be money thrown away.
 */
async function minimumsOf(deps: TreasuryDeps, chain: AnyTreasuryChain, input: { livemode: boolean; network: string }): Promise<(currency: string) => bigint> {
  const network = input.network as Network;
  const found = new Map<string, bigint>();
  for (const currency of [networks[network].nativeCurrency, ...chain.tokens.map((token) => token.currency)]) {
    const cents = chain.minimumUsdCents(currency);
    const definition = currencyOn(network, currency);
    if (cents === undefined || !deps.prices || !definition) continue;
    try {
      const units = usdCentsInUnits(cents, definition.decimals, await deps.prices[modeOf(input.livemode)].priceUsd(network, currency));
      found.set(currency, units > 0n ? units : 1n);
    } catch (error) {
      if (!(error instanceof PriceUnavailableError)) throw error;
      found.set(currency, UNPRICED);
    }
  }
  return (currency) => found.get(currency) ?? chain.minimum(currency);
}

/** Step 1: the sweeps due on a network in a mode, recorded; those already under way are left to their workflows. */
export async function planSweeps(deps: TreasuryDeps, input: { livemode: boolean; network: string }): Promise<PlannedSweep[]> {
  const chain = requireChain(deps, input.livemode, input.network);
  const { treasury } = await walletsOf(deps, input.livemode, input.network);
  while ((await catchUpDepositHoldings(deps.db)) > 0) {
    // Caught up in pieces of 1000 bookings.
  }
  const planned: PlannedSweep[] = [];
  for (const candidate of await sweepCandidates(deps.db, input.livemode, input.network, await minimumsOf(deps, chain, input))) {
    const currency = currencyOn(input.network as Network, candidate.currency);
    if (!currency) continue;
    const native = candidate.currency === networks[input.network as Network].nativeCurrency;
    if (!native && !chain.tokens.some((token) => token.currency === candidate.currency)) continue;
    const id = newId('sweep');
    const workflowId = sweepWorkflowId({ ...input, address: candidate.address, currency: candidate.currency, id });
    const sweep = await insertSweepIfNone(deps.db, {
      id,
      livemode: input.livemode,
      network: input.network,
      currency: candidate.currency,
      decimals: currency.decimals,
      address: candidate.address,
      address_branch: candidate.branch,
      address_index: candidate.index,
      merchant_id: candidate.merchantId,
      treasury,
      status: 'pending',
      workflow_id: workflowId,
    });
    if (sweep) planned.push({ sweepId: sweep.id, workflowId });
  }
  return planned;
}

/** Step 2: what to move, and whether the address needs gas first. An amount once recorded is kept (a retry reads the same). */
export async function prepareSweep(deps: TreasuryDeps, sweepId: string): Promise<SweepPlan> {
  const sweep = await sweepOf(deps, sweepId);
  if (sweep.status === 'completed' || sweep.status === 'skipped' || sweep.status === 'failed')
    return { action: 'skip', reason: `the sweep is ${sweep.status}` };
  if (isTron(sweep.network)) return prepareTronSweep(deps, sweep);
  const config = requireEvmChain(deps, sweep.livemode, sweep.network);
  const { chain } = config;
  if (sweep.amount !== null) return { action: sweep.status === 'topping_up' ? 'top_up' : 'send', amount: sweep.amount };
  const held = await ledgerHolding(deps, sweep);
  const onChain = isNative(sweep) ? await chain.nativeBalance(sweep.address) : await chain.tokenBalance(tokenOf(config, sweep), sweep.address);
  let amount = onChain < held ? onChain : held;
  let needsGas = false;
  if (isNative(sweep)) {
    // The native coin pays its own gas: what is left after the most the transfer can cost.
    const fees = await chain.feeQuote();
    amount -= NATIVE_TRANSFER_GAS * fees.maxFeePerGas;
  } else if (amount > 0n) {
    const gas = await tokenGas(chain, sweep, tokenOf(config, sweep), amount);
    const fees = await chain.feeQuote();
    needsGas = (await chain.nativeBalance(sweep.address)) < gas * fees.maxFeePerGas;
  }
  if (amount <= 0n) {
    await updateSweep(deps.db, sweep.id, { status: 'skipped', failure_reason: 'nothing worth its gas to move', completed_at: new Date() });
    return { action: 'skip', reason: 'nothing worth its gas to move' };
  }
  await updateSweep(deps.db, sweep.id, { amount, status: needsGas ? 'topping_up' : 'sending' });
  return { action: needsGas ? 'top_up' : 'send', amount: amount.toString() };
}

async function tokenGas(chain: EvmTreasuryChain, sweep: Sweep, token: string, amount: bigint): Promise<bigint> {
  const estimate = await chain.estimateGas({ from: sweep.address, to: token, value: 0n, data: tokenTransferData(sweep.treasury, amount) });
  return (estimate * (100n + GAS_MARGIN_PERCENT)) / 100n;
}

/**
 * Step 3: the sweep's top-up or its transfer, made once: allocated (nonce and request recorded),
 * signed (bytes recorded), broadcast. Every call after the first re-sends the recorded bytes.
 */
export async function sendSweepTransaction(deps: TreasuryDeps, sweepId: string, purpose: SweepPurpose): Promise<SentRef> {
  const sweep = await sweepOf(deps, sweepId);
  if (isTron(sweep.network)) return sendTronSweepTransaction(deps, sweep, purpose);
  const config = requireEvmChain(deps, sweep.livemode, sweep.network);
  // Its gas topped up, the sweep moves on to its transfer (what `sweep --now` and the row show).
  if (purpose === 'sweep' && sweep.status === 'topping_up') await updateSweep(deps.db, sweep.id, { status: 'sending' });
  const recorded = (await sentTransactionOf(deps.db, sweep.id, purpose)) ?? (await allocate(deps, config, sweep, purpose));
  // A top-up no longer needed (the fee fell since the plan, and the address holds enough gas): none is sent.
  if (!recorded) return { sentId: null, hash: null };
  const { sent, hash } = await signAndBroadcast(deps, config, recorded, sweep.workflow_id);
  return { sentId: sent.id, hash };
}

async function allocate(deps: TreasuryDeps, config: TreasuryChain, sweep: Sweep, purpose: SweepPurpose): Promise<SentTransaction | undefined> {
  const { chain } = config;
  const { gasWallet } = await walletsOf(deps, sweep.livemode, sweep.network);
  const [fees, chainId] = await Promise.all([chain.feeQuote(), chain.chainId()]);
  const amount = BigInt(sweep.amount ?? '0');
  const common = {
    reason: `sweep ${sweep.id}: ${purpose === 'gas_topup' ? 'gas for' : 'move'} ${sweep.currency} at ${sweep.address}`,
    mode: modeOf(sweep.livemode),
    network: sweep.network,
  };
  const fee = (gasLimit: bigint) => ({
    gas_limit: gasLimit.toString(),
    max_fee_per_gas: fees.maxFeePerGas.toString(),
    max_priority_fee_per_gas: fees.maxPriorityFeePerGas.toString(),
  });
  const deposit = { wallet: 'deposit' as const, branch: sweep.address_branch, index: sweep.address_index };
  if (purpose === 'gas_topup') {
    const gas = await tokenGas(chain, sweep, tokenOf(config, sweep), amount);
    const needed = gas * fees.maxFeePerGas - (await chain.nativeBalance(sweep.address));
    if (needed <= 0n) return undefined;
    const value = needed;
    return allocateSentTransaction(
      deps.db,
      {
        sweepId: sweep.id,
        purpose,
        livemode: sweep.livemode,
        network: sweep.network,
        from: gasWallet,
        to: sweep.address,
        chainNonce: await chain.pendingNonce(gasWallet),
      },
      (nonce) => ({
        ...common,
        kind: 'gas_topup',
        from: { wallet: 'gas' },
        destination: { branch: sweep.address_branch, index: sweep.address_index },
        tx: { chain_id: Number(chainId), nonce: Number(nonce), to: sweep.address, value: value.toString(), data: '0x', ...fee(NATIVE_TRANSFER_GAS) },
      }),
    );
  }
  const native = isNative(sweep);
  const token = native ? undefined : tokenOf(config, sweep);
  const gasLimit = native ? NATIVE_TRANSFER_GAS : await tokenGas(chain, sweep, token!, amount);
  // The address pays its own gas: with what its top-up left (a token) or what a native sweep does not
  // move. A fee risen since the top-up or the plan is capped to that, so the transfer is never refused
  // for funds; below the chain's fee now, it is stuck, and replaced when the address can pay more.
  const forGas = (await chain.nativeBalance(sweep.address)) - (native ? amount : 0n);
  const affordable = forGas > 0n ? forGas / gasLimit : 0n;
  const maxFee = min(fees.maxFeePerGas, affordable);
  const sweepFee = {
    gas_limit: gasLimit.toString(),
    max_fee_per_gas: maxFee.toString(),
    max_priority_fee_per_gas: min(fees.maxPriorityFeePerGas, maxFee).toString(),
  };
  return allocateSentTransaction(
    deps.db,
    {
      sweepId: sweep.id,
      purpose,
      livemode: sweep.livemode,
      network: sweep.network,
      from: sweep.address,
      to: native ? sweep.treasury : token!,
      chainNonce: await chain.pendingNonce(sweep.address),
    },
    (nonce) => ({
      ...common,
      kind: 'sweep',
      from: deposit,
      tx: native
        ? { chain_id: Number(chainId), nonce: Number(nonce), to: sweep.treasury, value: amount.toString(), data: '0x', ...sweepFee }
        : { chain_id: Number(chainId), nonce: Number(nonce), to: token!, value: '0', data: tokenTransferData(sweep.treasury, amount), ...sweepFee },
    }),
  );
}

/**
 * Step 4: whether the sent transaction is final (evm-sending.ts follows it: sent again when the node
 * forgot it, replaced with a higher fee when stuck); once final, whichever version was mined, what it
 * moved and what it cost are booked, once.
 */
export async function confirmSweepTransaction(deps: TreasuryDeps, sentId: string): Promise<Confirmation> {
  const sent = await sentOf(deps, sentId);
  if (sent.status === 'confirmed') return { state: 'confirmed' };
  if (sent.status === 'failed') return { state: 'reverted' };
  const sweep = await sweepOf(deps, sent.sweep_id!);
  if (isTron(sweep.network)) return confirmTronSweepTransaction(deps, sweep, sent);
  const config = requireEvmChain(deps, sweep.livemode, sweep.network);
  const progress = await followTransaction(deps, config, sent, { workflowId: sweep.workflow_id, movesBalance: sent.purpose === 'sweep' && isNative(sweep) });
  if (progress.state === 'waiting') return progress;
  return bookFinal(deps.db, sweep, sent, progress.receipt, BigInt(progress.request.tx.value));
}

/** The sweep's end: completed once its transfer is final, failed with why otherwise. */
export async function finishSweep(deps: TreasuryDeps, sweepId: string, outcome: { completed: true } | { completed: false; reason: string }): Promise<void> {
  await updateSweep(
    deps.db,
    sweepId,
    outcome.completed ? { status: 'completed', completed_at: new Date() } : { status: 'failed', failure_reason: outcome.reason, completed_at: new Date() },
  );
}
