/**
 * Fiat amounts for orders, exact: a rate is fiat per whole unit of an asset, a decimal string of
 * at most PRICE_DECIMALS places, derived from two USD prices and locked for the order's life.
 * Converting fiat to the asset rounds up (the merchant receives at least the fiat asked for);
 * converting the asset to fiat rounds down (fiat figures never overstate a payment).
 */
import { PRICE_DECIMALS } from './fees';
import { formatAmount, parseAmount } from './money';

const RATE_SCALE = 10n ** BigInt(PRICE_DECIMALS);
export const FIAT_DECIMALS = 2;
export const fiatCurrencies = ['USD', 'EUR'] as const;
export type FiatCurrency = (typeof fiatCurrencies)[number];

/** Fiat per unit of the asset from the USD prices of both (the fiat's is 1 for USD), truncated to 8 places. */
export function exchangeRate(assetPriceUsd: string, fiatPriceUsd: string): string {
  const asset = parseAmount(assetPriceUsd, PRICE_DECIMALS);
  const fiat = parseAmount(fiatPriceUsd, PRICE_DECIMALS);
  if (asset <= 0n || fiat <= 0n) throw new RangeError(`prices must be positive, got ${assetPriceUsd} and ${fiatPriceUsd}`);
  const rate = (asset * RATE_SCALE) / fiat;
  if (rate === 0n) throw new RangeError(`the asset is worth less than ${formatAmount(1n, PRICE_DECIMALS)} of the fiat currency`);
  return formatAmount(rate, PRICE_DECIMALS);
}

/** Base units of the asset worth at least `fiatCents` at `rate`. */
export function fiatToAsset(fiatCents: bigint, rate: string, decimals: number): bigint {
  const numerator = fiatCents * 10n ** BigInt(decimals) * RATE_SCALE;
  const denominator = parseAmount(rate, PRICE_DECIMALS) * 10n ** BigInt(FIAT_DECIMALS);
  return (numerator + denominator - 1n) / denominator;
}

/** Cents of fiat that `units` of the asset are worth at `rate`. */
export function assetToFiat(units: bigint, rate: string, decimals: number): bigint {
  return (units * parseAmount(rate, PRICE_DECIMALS) * 10n ** BigInt(FIAT_DECIMALS)) / (10n ** BigInt(decimals) * RATE_SCALE);
}
