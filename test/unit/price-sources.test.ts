import { loadConfig } from '../../src/config';
import { PriceUnavailableError } from '../../src/prices/price-source';
import { createPriceSources, describePriceSources } from '../../src/prices/sources';
import { defaultStaticPrices } from '../../src/prices/price-source';

/** Live prices fail closed: without a feed, a live currency is not priced unless the operator explicitly allows the static table. */
describe('price sources per mode', () => {
  const noFeeds = { staticPrices: defaultStaticPrices, priceFeeds: {} };

  it('prices test mode from the static table, and refuses to price live money without a feed', async () => {
    const sources = createPriceSources({ ...noFeeds, allowStaticPricesLive: false });
    expect(await sources.test.priceUsd('ethereum', 'ETH')).toBe(defaultStaticPrices.ETH);
    await expect(sources.live.priceUsd('ethereum', 'ETH')).rejects.toThrow(PriceUnavailableError);
    // Stablecoins too: a depeg is exactly when a fixed 1.00 would be wrong.
    await expect(sources.live.priceUsd('ethereum', 'USDT')).rejects.toThrow(/no live price feed is configured for USDT/);
    await expect(sources.live.priceUsd('ethereum', 'EUR')).rejects.toThrow(PriceUnavailableError);
    expect(await sources.live.priceUsd('ethereum', 'USD')).toBe('1');
  });

  it('prices live money from the static table only when INFLOW_ALLOW_STATIC_PRICES_LIVE=true', async () => {
    const sources = createPriceSources({ ...noFeeds, allowStaticPricesLive: true });
    expect(await sources.live.priceUsd('ethereum', 'ETH')).toBe(defaultStaticPrices.ETH);
    const base = { DATABASE_URL: 'postgres://localhost/inflow', TEMPORAL_ADDRESS: 'localhost:7233' };
    expect(loadConfig(base).allowStaticPricesLive).toBe(false);
    expect(loadConfig({ ...base, INFLOW_ALLOW_STATIC_PRICES_LIVE: 'true' }).allowStaticPricesLive).toBe(true);
  });

  it('says at start, as a warning, which live currencies are not priced', () => {
    const [test, live] = describePriceSources({ ...noFeeds, allowStaticPricesLive: false });
    expect(test).toEqual({ line: expect.stringContaining('from the static table'), warn: false });
    expect(live).toEqual({ line: expect.stringMatching(/^live prices: ETH, .*NOT PRICED: no feed/), warn: true });
  });
});
