/**
 * USD prices: for the flat fee of every deposit (asked once, at completion, and booked with that
 * price, so a replay or retry always uses the same rate) and for the exchange rate an order in
 * fiat locks when it is made.
 *
 * inflow ships a static table (stablecoins at 1.00), the default in test mode and `npm run dev`,
 * and Chainlink-compatible on-chain feeds (chainlink.ts) for the pairs a deployment configures.
 */
import { PRICE_DECIMALS } from '../domain/fees';
import { parseAmount } from '../domain/money';
import type { Network } from '../domain/networks';

export interface PriceSource {
  /**
   * The USD price of one whole unit of `currency` (an asset on `network`, or a fiat currency such
   * as EUR), as a decimal string. Throws PriceUnavailableError rather than answer with a price it
   * cannot vouch for (a stale or broken feed).
   */
  priceUsd(network: Network, currency: string): Promise<string>;
}

/** No fresh price can be had now; nothing should be priced until one can. */
export class PriceUnavailableError extends Error {
  override readonly name = 'PriceUnavailableError';
}

export const defaultStaticPrices: Record<string, string> = {
  ETH: '3000.00',
  POL: '0.50',
  BNB: '600.00',
  TRX: '0.25',
  USDT: '1.00',
  USDC: '1.00',
  EUR: '1.08',
};

export class StaticPriceSource implements PriceSource {
  constructor(private readonly prices: Record<string, string> = defaultStaticPrices) {
    for (const [currency, price] of Object.entries(prices)) {
      if (parseAmount(price, PRICE_DECIMALS) <= 0n) throw new RangeError(`the static price of ${currency} must be positive, got "${price}"`);
    }
  }

  async priceUsd(_network: Network, currency: string): Promise<string> {
    const price = this.prices[currency];
    if (price === undefined) throw new Error(`no static USD price for ${currency}`);
    return price;
  }
}

/** Parses INFLOW_STATIC_PRICES, e.g. "ETH=3500.12,BNB=610": overrides on top of the defaults. */
export function parseStaticPrices(text: string | undefined): Record<string, string> {
  const prices = { ...defaultStaticPrices };
  for (const pair of (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [currency, price] = pair.split('=').map((part) => part.trim());
    if (!currency || !price || !/^\d+(\.\d{1,8})?$/.test(price) || /^0+(\.0+)?$/.test(price)) {
      throw new RangeError(`entry "${pair}" is not CURRENCY=PRICE with a positive price of up to ${PRICE_DECIMALS} decimals`);
    }
    prices[currency.toUpperCase()] = price;
  }
  return prices;
}
