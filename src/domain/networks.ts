/**
 * The networks inflow supports, as data: family, currencies with their decimals and token
 * contracts per mode, and the confirmations a deposit needs (API.md, "Networks and finality").
 * Test-mode token contracts are unset here (Tron's USDT excepted: Nile's): a testnet or the local devnet configures them.
 */
import type { Mode } from './mode';

export type Family = 'evm' | 'tron';

export interface CurrencyDefinition {
  decimals: number;
  /** Token contract per mode; absent for the network's native coin. */
  contracts?: Partial<Record<Mode, string>>;
}

export interface NetworkDefinition {
  family: Family;
  nativeCurrency: string;
  currencies: Record<string, CurrencyDefinition>;
  requiredConfirmations: number;
  /**
   * `safe`: a rollup, whose latest blocks the sequencer alone vouches for until they are posted to
   * L1. A deposit there completes only once its block is at or below the node's `safe` block too,
   * however many blocks follow it.
   */
  finality?: 'safe';
  /** Typical time between blocks; the test-mode simulator confirms at this pace. */
  blockTimeMs: number;
  enabled: boolean;
}

const native18 = { decimals: 18 } as const;

export const networks = {
  ethereum: {
    family: 'evm',
    nativeCurrency: 'ETH',
    currencies: {
      ETH: native18,
      USDT: { decimals: 6, contracts: { live: '0xdAC17F958D2ee523a2206206994597C13D831ec7' } },
      USDC: { decimals: 6, contracts: { live: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' } },
    },
    requiredConfirmations: 12,
    blockTimeMs: 12_000,
    enabled: true,
  },
  polygon: {
    family: 'evm',
    nativeCurrency: 'POL',
    currencies: {
      POL: native18,
      USDT: { decimals: 6, contracts: { live: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F' } },
      USDC: { decimals: 6, contracts: { live: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359' } },
    },
    requiredConfirmations: 128,
    blockTimeMs: 2_000,
    enabled: true,
  },
  bsc: {
    family: 'evm',
    nativeCurrency: 'BNB',
    currencies: {
      BNB: native18,
      // Binance-peg stablecoins use 18 decimals on BSC.
      USDT: { decimals: 18, contracts: { live: '0x55d398326f99059fF775485246999027B3197955' } },
      USDC: { decimals: 18, contracts: { live: '0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d' } },
    },
    requiredConfirmations: 15,
    blockTimeMs: 3_000,
    enabled: true,
  },
  arbitrum: {
    family: 'evm',
    nativeCurrency: 'ETH',
    currencies: {
      ETH: native18,
      USDT: { decimals: 6, contracts: { live: '0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9' } },
      USDC: { decimals: 6, contracts: { live: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831' } },
    },
    requiredConfirmations: 40,
    finality: 'safe',
    blockTimeMs: 250,
    enabled: true,
  },
  base: {
    family: 'evm',
    nativeCurrency: 'ETH',
    currencies: {
      ETH: native18,
      USDC: { decimals: 6, contracts: { live: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' } },
    },
    requiredConfirmations: 40,
    finality: 'safe',
    blockTimeMs: 2_000,
    enabled: true,
  },
  tron: {
    family: 'tron',
    nativeCurrency: 'TRX',
    currencies: {
      TRX: { decimals: 6 },
      // Test mode: the Nile testnet's USDT (a node of Nile configured as INFLOW_RPC_URL_TRON_TEST).
      USDT: { decimals: 6, contracts: { live: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', test: 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf' } },
    },
    requiredConfirmations: 19,
    blockTimeMs: 3_000,
    enabled: true,
  },
} as const satisfies Record<string, NetworkDefinition>;

export type Network = keyof typeof networks;

export const networkNames = Object.keys(networks) as Network[];
export const families: readonly Family[] = ['evm', 'tron'];

export function isNetwork(value: string): value is Network {
  return Object.hasOwn(networks, value);
}

export function enabledNetworks(): Network[] {
  return networkNames.filter((name) => networks[name].enabled);
}

export function currenciesOf(network: Network): string[] {
  return Object.keys(networks[network].currencies);
}

/** Every currency some network carries, each once, sorted: `ETH`, `TRX`, `USDC`… */
export const currencyNames = [...new Set(networkNames.flatMap(currenciesOf))].sort() as [string, ...string[]];

/** `safe` for a rollup, whose deposits complete only at or below its safe block (NetworkDefinition.finality). */
export function finalityOf(network: Network): NetworkDefinition['finality'] {
  const definition: NetworkDefinition = networks[network];
  return definition.finality;
}

/** The definition of `currency` on `network`, or undefined when that pair is not supported. */
export function currencyOn(network: Network, currency: string): CurrencyDefinition | undefined {
  const currencies: Record<string, CurrencyDefinition> = networks[network].currencies;
  return Object.hasOwn(currencies, currency) ? currencies[currency] : undefined;
}
