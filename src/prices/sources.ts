/**
 * Each mode's price source, from the configuration: the Chainlink-compatible feeds configured for
 * that mode (INFLOW_PRICE_FEEDS_<MODE>) for their currencies, the static table for every other.
 * Test mode and `npm run dev` configure no feed by default, so they use the static table.
 *
 * Live prices fail closed: a live currency without a feed is not priced at all (fiat orders in it
 * answer 503, its deposits wait at completion as for a stale feed) unless the operator says
 * INFLOW_ALLOW_STATIC_PRICES_LIVE=true. A table of fixed prices is not a market.
 */
import { JsonRpcProvider } from 'ethers';
import type { Config } from '../config';
import { modes, type Mode } from '../domain/mode';
import type { Network } from '../domain/networks';
import { ChainlinkPriceSource } from './chainlink';
import { PriceUnavailableError, StaticPriceSource, type PriceSource } from './price-source';

type PriceConfig = Pick<Config, 'staticPrices' | 'priceFeeds' | 'allowStaticPricesLive'>;

/** Feeds first; the static table (or, where it may not price, nothing) for currencies without one; a US dollar is worth one. */
class ModePriceSource implements PriceSource {
  constructor(
    private readonly feedCurrencies: ReadonlySet<string>,
    private readonly feeds: PriceSource | undefined,
    private readonly table: PriceSource | undefined,
  ) {}

  async priceUsd(network: Network, currency: string): Promise<string> {
    if (currency === 'USD') return '1';
    if (this.feeds && this.feedCurrencies.has(currency)) return this.feeds.priceUsd(network, currency);
    if (this.table) return this.table.priceUsd(network, currency);
    throw new PriceUnavailableError(
      `no live price feed is configured for ${currency} (INFLOW_PRICE_FEEDS_LIVE; INFLOW_ALLOW_STATIC_PRICES_LIVE=true prices it from the static table)`,
    );
  }
}

/** Whether the static table may price a mode's currencies that have no feed. */
function tablePrices(config: PriceConfig, mode: Mode): boolean {
  return mode === 'test' || config.allowStaticPricesLive;
}

export function createPriceSources(config: PriceConfig): Record<Mode, PriceSource> {
  const table = new StaticPriceSource(config.staticPrices);
  const sourceFor = (mode: Mode): PriceSource => {
    const configured = config.priceFeeds[mode];
    const fallback = tablePrices(config, mode) ? table : undefined;
    if (!configured) return new ModePriceSource(new Set(), undefined, fallback);
    const provider = new JsonRpcProvider(configured.rpcUrl, undefined, { staticNetwork: true });
    return new ModePriceSource(new Set(Object.keys(configured.feeds)), new ChainlinkPriceSource(provider, configured.feeds), fallback);
  };
  return { test: sourceFor('test'), live: sourceFor('live') };
}

/**
 * One line per mode saying where each currency's price comes from, for the start-up log; `warn`
 * when live money is priced by the static table, or a live currency is not priced at all.
 */
export function describePriceSources(config: PriceConfig): Array<{ line: string; warn: boolean }> {
  return modes.map((mode) => {
    const feeds = config.priceFeeds[mode]?.feeds ?? {};
    const fromFeeds = Object.entries(feeds).map(([currency, feed]) => `${currency} from feed ${feed.address} (heartbeat ${feed.heartbeatSeconds} s)`);
    const withoutFeed = Object.keys(config.staticPrices).filter((currency) => !(currency in feeds));
    const rest =
      withoutFeed.length === 0
        ? ''
        : tablePrices(config, mode)
          ? `${withoutFeed.join(', ')} from the static table${mode === 'live' ? ' (INFLOW_ALLOW_STATIC_PRICES_LIVE=true)' : ''}`
          : `${withoutFeed.join(', ')} NOT PRICED: no feed (fiat orders in them answer 503 and their deposits wait at completion; configure INFLOW_PRICE_FEEDS_LIVE)`;
    return { line: `${mode} prices: ${[...fromFeeds, rest].filter(Boolean).join('; ')}`, warn: mode === 'live' && withoutFeed.length > 0 };
  });
}
