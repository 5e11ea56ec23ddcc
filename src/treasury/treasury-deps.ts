/** The worker's treasury: the signer it asks and the nodes sweeps send on (EVM and Tron), from the configuration. */
import { ConfigError, type Config } from '../config';
import { modeOf } from '../domain/mode';
import { parseAmount } from '../domain/money';
import { currencyOn, isNetwork, networks, type Network } from '../domain/networks';
import { EvmTreasuryChain } from './evm-chain';
import { SignerClient } from './signer-client';
import type { AnyTreasuryChain, TreasuryDeps } from './sweep-context';
import { STUCK_AFTER_BLOCKS } from './sweeps.service';
import { TronTreasuryChain } from './tron-chain';

/** A native coin's least worth sweeping when not configured, in whole coins: below it, the transfer's gas would take most of it. */
export const DEFAULT_NATIVE_SWEEP_MINIMUM = '0.001';

export function createTreasuryDeps(config: Pick<Config, 'chains' | 'treasury'>): Omit<TreasuryDeps, 'db'> {
  checkSweepMinimums(config.treasury.sweepMinimums);
  const chains = new Map<string, AnyTreasuryChain>();
  for (const watched of config.chains) {
    const mode = modeOf(watched.livemode);
    const network = watched.network;
    const { sweepMinimums, sweepMinimumUsdCents } = config.treasury;
    const settings = {
      tokens: watched.tokens,
      confirmations: sweepConfirmations(watched),
      minimum: (currency: string) => sweepMinimum(sweepMinimums, network, currency, mode === 'live'),
      // INFLOW_SWEEP_MIN_USD where the currency has no INFLOW_SWEEP_MIN_… of its own.
      minimumUsdCents: (currency: string) =>
        configuredSweepMinimum(sweepMinimums, network, currency, mode === 'live') === undefined ? sweepMinimumUsdCents : undefined,
    };
    chains.set(
      `${mode}:${network}`,
      watched.family === 'tron'
        ? { family: 'tron', chain: new TronTreasuryChain(watched.rpcUrls, watched.headers, nodeChoice(watched)), ...settings }
        : {
            family: 'evm',
            chain: new EvmTreasuryChain(watched.rpcUrls, watched.headers, nodeChoice(watched)),
            stuckAfterBlocks: stuckAfterBlocks(network),
            ...settings,
          },
    );
  }
  return {
    signer: config.treasury.signer ? new SignerClient(config.treasury.signer) : undefined,
    chainOf: (livemode, network) => chains.get(`${modeOf(livemode)}:${network}`),
  };
}

/**
 * Which of a chain's nodes the treasury reads from: one within a quarter of the way to finality of
 * the highest head (as the watcher's failover allows), chosen again every few blocks.
 */
function nodeChoice(watched: { requiredConfirmations: number; network: Network }) {
  return {
    maxLagBlocks: Math.max(3, Math.ceil(watched.requiredConfirmations / 4)),
    refreshMs: Math.max(5_000, networks[watched.network].blockTimeMs * 2),
  };
}

/** How long a transaction may stay unmined before it is replaced with a higher fee, whatever the network's pace. */
const STUCK_AFTER_MS = 120_000;

/** About two minutes of the network's blocks, and never fewer than STUCK_AFTER_BLOCKS (ethereum 10, bsc 40, polygon and base 60, arbitrum 480). */
export function stuckAfterBlocks(network: Network): number {
  return Math.max(STUCK_AFTER_BLOCKS, Math.ceil(STUCK_AFTER_MS / networks[network].blockTimeMs));
}

/**
 * How deep a sweep's transaction must be before it is booked: the configured confirmations, but never
 * fewer than the network's own (12 on ethereum), the depth the chain watcher rescans for reorgs. A
 * deposit completed at fewer confirmations is reversed if a reorg takes it away; a booked sweep is
 * never looked at again, so it waits until a reorg is as unlikely as the watcher assumes. Until
 * then a transaction the chain lost is sent again, the same bytes.
 */
export function sweepConfirmations(watched: { network: Network; requiredConfirmations: number }): number {
  return Math.max(watched.requiredConfirmations, networks[watched.network].requiredConfirmations);
}

/** INFLOW_SWEEP_MIN_<NETWORK>_<CURRENCY>_<MODE> in base units; else a native coin's default, a token's one base unit. */
export function sweepMinimum(minimums: Record<string, string>, network: Network, currency: string, livemode: boolean): bigint {
  const definition = currencyOn(network, currency);
  if (!definition) return 1n;
  const configured = configuredSweepMinimum(minimums, network, currency, livemode);
  if (configured !== undefined) return configured;
  return currency === networks[network].nativeCurrency ? parseAmount(DEFAULT_NATIVE_SWEEP_MINIMUM, definition.decimals) : 1n;
}

/** INFLOW_SWEEP_MIN_<NETWORK>_<CURRENCY>_<MODE> in base units (at least 1), when it is set. */
function configuredSweepMinimum(minimums: Record<string, string>, network: Network, currency: string, livemode: boolean): bigint | undefined {
  const definition = currencyOn(network, currency);
  const configured = minimums[`${network.toUpperCase()}_${currency.toUpperCase()}_${livemode ? 'LIVE' : 'TEST'}`];
  if (!definition || configured === undefined) return undefined;
  const units = parseAmount(configured, definition.decimals);
  return units > 0n ? units : 1n;
}

/** Each INFLOW_SWEEP_MIN_… names a supported network and currency and fits its decimals: a mistake stops the worker at start, not a sweep later. */
function checkSweepMinimums(minimums: Record<string, string>): void {
  for (const [suffix, value] of Object.entries(minimums)) {
    const [network, currency] = suffix.split('_').map((part) => part.toLowerCase()) as [string, string];
    const definition = isNetwork(network) ? currencyOn(network, currency.toUpperCase()) : undefined;
    if (!definition) throw new ConfigError(`inflow: INFLOW_SWEEP_MIN_${suffix} names no supported network and currency`);
    try {
      parseAmount(value, definition.decimals);
    } catch {
      throw new ConfigError(`inflow: INFLOW_SWEEP_MIN_${suffix} must be a decimal amount with at most ${definition.decimals} decimals`);
    }
  }
}
