/**
 * What every sweep step needs, whichever the network's family (sweeps.service.ts for EVM,
 * tron-sweeps.ts for Tron): the configured chains, the signer, the sweep's row, what the ledger
 * says an address holds, and booking a final transaction in the holdings ledger.
 */
import { inTransaction, type Db, type Executor } from '../db/database';
import { StepFailure, activityFailureTypes, missing } from '../domain/failures';
import { modeOf, type Mode } from '../domain/mode';
import type { PriceSource } from '../prices/price-source';
import { networks, type Network } from '../domain/networks';
import type { EvmTreasuryChain } from './evm-chain';
import { bookHoldings, type HoldingsEntry } from './holdings.repository';
import type { SignerClient } from './signer-client';
import { findSweep, updateSentTransaction } from './sweeps.repository';
import type { SentTransaction, Sweep } from './treasury.table';
import type { TronTreasuryChain } from './tron-chain';

interface ChainSettings {
  tokens: Array<{ currency: string; address: string }>;
  /** How deep a transaction must be before it is booked (sweepConfirmations). */
  confirmations: number;
  /** The least worth sweeping, base units, per currency (its INFLOW_SWEEP_MIN_…, else its unit default). */
  minimum: (currency: string) => bigint;
  /** INFLOW_SWEEP_MIN_USD in cents for a currency without its own minimum: its base units at the USD price when the sweep is planned. */
  minimumUsdCents: (currency: string) => bigint | undefined;
}

/** A watched EVM chain the treasury may send on. */
export interface TreasuryChain extends ChainSettings {
  family: 'evm';
  chain: EvmTreasuryChain;
  /** Blocks a transaction may stay unmined after it was signed before it is replaced with a higher fee. */
  stuckAfterBlocks: number;
}

/** A watched Tron chain the treasury may send on (a lost transaction expires and is built again: nothing is stuck). */
export interface TronTreasury extends ChainSettings {
  family: 'tron';
  chain: TronTreasuryChain;
}

export type AnyTreasuryChain = TreasuryChain | TronTreasury;

export interface TreasuryDeps {
  db: Db;
  /** Undefined: no signer configured; treasury work fails with TreasuryNotConfigured and nothing else is affected. */
  signer: SignerClient | undefined;
  chainOf: (livemode: boolean, network: Network) => AnyTreasuryChain | undefined;
  /** Each mode's USD prices, for a minimum set in USD (INFLOW_SWEEP_MIN_USD); without them, the unit minimums apply. */
  prices?: Record<Mode, PriceSource> | undefined;
}

/**
 * What a sweep does: nothing; a top-up of gas first, then its transfer; its transfer alone; or
 * (Tron) energy lent by the gas wallet's stake (after a top-up of what else it lacks), the
 * transfer, and the energy taken back.
 */
export type SweepPlan = { action: 'skip'; reason: string } | { action: 'top_up' | 'send' | 'delegate'; amount: string };

/** A transaction sent (or sent again), or none needed (a top-up or a delegation the address no longer needs, a reclaim of nothing). */
export type SentRef = { sentId: string; hash: string } | { sentId: null; hash: null };

/** `replaced`: a stuck version replaced by a higher fee (EVM) or an expired one built again (Tron); `stuck`: why it waits. */
export type Confirmation =
  | { state: 'waiting'; confirmations: number; required?: number; replaced?: { hash: string; by: string }; stuck?: string }
  | { state: 'confirmed' }
  | { state: 'reverted' };

export function notConfigured(message: string): StepFailure {
  return new StepFailure(activityFailureTypes.treasuryNotConfigured, message);
}

export function requireSigner(deps: TreasuryDeps): SignerClient {
  if (!deps.signer) throw notConfigured('No signer is configured (INFLOW_SIGNER_SOCKET, INFLOW_SIGNER_SECRET): the worker runs no treasury work.');
  return deps.signer;
}

export function requireChain(deps: TreasuryDeps, livemode: boolean, network: string): AnyTreasuryChain {
  const chain = networks[network as Network] ? deps.chainOf(livemode, network as Network) : undefined;
  if (!chain) throw notConfigured(`No ${modeOf(livemode)}-mode node is configured for ${network}: the treasury can send nothing there (no sweep, no payout).`);
  return chain;
}

export function requireEvmChain(deps: TreasuryDeps, livemode: boolean, network: string): TreasuryChain {
  const chain = requireChain(deps, livemode, network);
  if (chain.family !== 'evm') throw notConfigured(`${network} is not an EVM network`);
  return chain;
}

/** The treasury and gas wallet the signer will pay and sign from, for the mode and network. */
export async function walletsOf(deps: TreasuryDeps, livemode: boolean, network: string): Promise<{ treasury: string; gasWallet: string }> {
  const health = await requireSigner(deps).health();
  const mode = modeOf(livemode);
  const treasury = health.treasuries[mode]?.[network as Network];
  const gasWallet = networks[network as Network].family === 'tron' ? health.tron_gas_wallets?.[mode] : health.gas_wallets[mode];
  if (!treasury || !gasWallet)
    throw notConfigured(
      `The signer has no ${mode}-mode treasury for ${network} (INFLOW_TREASURY_${network.toUpperCase()}_${mode.toUpperCase()}), or no ${mode}-mode key.`,
    );
  return { treasury, gasWallet };
}

export async function sweepOf(deps: TreasuryDeps, sweepId: string): Promise<Sweep> {
  const sweep = await findSweep(deps.db, sweepId);
  if (!sweep) throw missing(activityFailureTypes.sweepNotFound, 'sweep', sweepId);
  return sweep;
}

export async function sentOf(deps: TreasuryDeps, sentId: string): Promise<SentTransaction> {
  const sent = await deps.db.selectFrom('treasury_transactions_sent').selectAll().where('id', '=', sentId).executeTakeFirst();
  if (!sent?.hash || !sent.signed_transaction) throw missing(activityFailureTypes.sweepNotFound, 'sent transaction', sentId);
  return sent;
}

export const isNative = (sweep: Pick<Sweep, 'network' | 'currency'>) => sweep.currency === networks[sweep.network as Network].nativeCurrency;

export function tokenOf(chain: Pick<ChainSettings, 'tokens'>, sweep: Sweep): string {
  const token = chain.tokens.find((candidate) => candidate.currency === sweep.currency);
  if (!token) throw notConfigured(`No ${sweep.currency} contract is configured for ${sweep.network} in ${modeOf(sweep.livemode)} mode.`);
  return token.address;
}

/** What the ledger says the sweep's address holds of its currency. */
export async function ledgerHolding(deps: TreasuryDeps, sweep: Sweep, currency = sweep.currency): Promise<bigint> {
  const row = await deps.db
    .selectFrom('holdings_entries')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('balance'))
    .where('livemode', '=', sweep.livemode)
    .where('network', '=', sweep.network)
    .where('account', '=', 'deposit_addresses')
    .where('address', '=', sweep.address)
    .where('currency', '=', currency)
    .executeTakeFirstOrThrow();
  return BigInt(row.balance);
}

/** A final transaction's outcome, from its receipt. */
export interface FinalOutcome {
  status: 'succeeded' | 'reverted';
  blockNumber: bigint;
  /** What its sender paid for it in native coin (gas, or Tron's burned TRX). */
  fee: bigint;
  /** EVM gas; Tron's energy. */
  gasUsed: bigint;
}

/**
 * Books a final transaction once: its fee from its sender to `network_fees`; a top-up's coin from
 * the gas wallet to the deposit address; a sweep's amount from the deposit address to the
 * treasury (`value`: a top-up's or a native sweep's amount; a token sweep moves the sweep's amount).
 * An energy delegation or reclaim moves nothing but its fee. A reverted transaction books only its fee.
 */
export async function bookFinal(
  db: Executor,
  sweep: Sweep,
  sent: SentTransaction,
  outcome: FinalOutcome,
  value: bigint,
): Promise<{ state: 'confirmed' } | { state: 'reverted' }> {
  const nativeCurrency = networks[sweep.network as Network].nativeCurrency;
  const succeeded = outcome.status === 'succeeded';
  const entries: HoldingsEntry[] = [{ account: 'network_fees', currency: nativeCurrency, address: null, amount: outcome.fee }];
  if (sent.purpose === 'sweep') {
    entries.push({ account: 'deposit_addresses', currency: nativeCurrency, address: sweep.address, amount: -outcome.fee });
    if (succeeded) {
      const moved = isNative(sweep) ? value : BigInt(sweep.amount!);
      entries.push({ account: 'deposit_addresses', currency: sweep.currency, address: sweep.address, amount: -moved });
      entries.push({ account: 'treasury', currency: sweep.currency, address: sweep.treasury, amount: moved });
    }
  } else {
    entries.push({ account: 'gas_wallet', currency: nativeCurrency, address: sent.from_address, amount: -outcome.fee });
    if (succeeded && sent.purpose === 'gas_topup') {
      entries.push({ account: 'gas_wallet', currency: nativeCurrency, address: sent.from_address, amount: -value });
      entries.push({ account: 'deposit_addresses', currency: nativeCurrency, address: sweep.address, amount: value });
    }
  }
  await inTransaction(db, async (transaction) => {
    await bookHoldings(transaction, { livemode: sweep.livemode, network: sweep.network, kind: sent.purpose, sourceId: sent.id }, entries);
    await updateSentTransaction(transaction, sent.id, {
      status: succeeded ? 'confirmed' : 'failed',
      block_number: outcome.blockNumber.toString(),
      gas_used: outcome.gasUsed.toString(),
      fee: outcome.fee.toString(),
    });
  });
  return succeeded ? { state: 'confirmed' } : { state: 'reverted' };
}
