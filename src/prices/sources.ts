/**
 * Each mode's price source, from the configuration: the Chainlink-compatible feeds configured for
 * that mode (INFLOW_PRICE_FEEDS_<MODE>) for their currencies, the static table for every other.
 * Test mode and `npm run dev` configure no feed by default, so they use the static table.
 */
import { JsonRpcProvider } from 'ethers';
import type { Config } from '../config';
import { modes, type Mode } from '../domain/mode';
import type { Network } from '../domain/networks';
import { ChainlinkPriceSource } from './chainlink';
import { StaticPriceSource, type PriceSource } from './price-source';

/** Feeds first, the static table for currencies without one; a US dollar is worth one. */
class ModePriceSource implements PriceSource {
  constructor(
    private readonly feedCurrencies: ReadonlySet<string>,
    private readonly feeds: PriceSource | undefined,
    private readonly table: PriceSource,
  ) {}

  async priceUsd(network: Network, currency: string): Promise<string> {
    if (currency === 'USD') return '1';
    return this.feeds && this.feedCurrencies.has(currency) ? this.feeds.priceUsd(network, currency) : this.table.priceUsd(network, currency);
  }
}

export function createPriceSources(config: Pick<Config, 'staticPrices' | 'priceFeeds'>): Record<Mode, PriceSource> {
  const table = new StaticPriceSource(config.staticPrices);
  const sourceFor = (mode: Mode): PriceSource => {
    const configured = config.priceFeeds[mode];
    if (!configured) return new ModePriceSource(new Set(), undefined, table);
    const provider = new JsonRpcProvider(configured.rpcUrl, undefined, { staticNetwork: true });
    return new ModePriceSource(new Set(Object.keys(configured.feeds)), new ChainlinkPriceSource(provider, configured.feeds), table);
  };
  return { test: sourceFor('test'), live: sourceFor('live') };
}

/** One line per mode saying where each currency's price comes from, for the start-up log. */
export function describePriceSources(config: Pick<Config, 'staticPrices' | 'priceFeeds'>): string[] {
  return modes.map((mode) => {
    const feeds = config.priceFeeds[mode]?.feeds ?? {};
    const fromFeeds = Object.entries(feeds).map(([currency, feed]) => `${currency} from feed ${feed.address} (heartbeat ${feed.heartbeatSeconds} s)`);
    const fromTable = Object.keys(config.staticPrices).filter((currency) => !(currency in feeds));
    return `${mode} prices: ${[...fromFeeds, fromTable.length > 0 ? `${fromTable.join(', ')} from the static table` : ''].filter(Boolean).join('; ')}`;
  });
}
