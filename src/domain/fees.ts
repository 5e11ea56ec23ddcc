/**
 * The flat fee: USD 2.00 per deposit, converted into the deposit's currency at the USD price
 * captured when it completes, and never more than the deposit itself (a $1 deposit nets zero).
 *
 * Prices are decimal strings with up to PRICE_DECIMALS places. Conversions round down, so the
 * fee never exceeds USD 2.00 and USD figures never overstate a deposit.
 */
import { parseAmount } from './money';

export const FLAT_FEE_USD_CENTS = 200n;
export const PRICE_DECIMALS = 8;

export interface FeeBreakdown {
  fee: bigint;
  net: bigint;
  amountUsdCents: bigint;
  feeUsdCents: bigint;
}

export function computeFee(input: { amount: bigint; decimals: number; priceUsd: string; flatFeeUsdCents?: bigint }): FeeBreakdown {
  const { amount, decimals } = input;
  const price = parseAmount(input.priceUsd, PRICE_DECIMALS);
  if (price <= 0n) throw new RangeError(`a USD price must be positive, got "${input.priceUsd}"`);
  const flatFee = input.flatFeeUsdCents ?? FLAT_FEE_USD_CENTS;
  // base units × price / unitsPerCent = cents, where one cent is 10^(decimals + PRICE_DECIMALS - 2) of them.
  const unitsPerCent = 10n ** BigInt(decimals + PRICE_DECIMALS - 2);
  const amountUsdCents = (amount * price) / unitsPerCent;
  const flatFeeInUnits = (flatFee * unitsPerCent) / price;
  const fee = flatFeeInUnits < amount ? flatFeeInUnits : amount;
  return { fee, net: amount - fee, amountUsdCents, feeUsdCents: fee === amount ? amountUsdCents : flatFee };
}

/** The base units of a currency worth at least `usdCents` at `priceUsd` (rounded up): a USD threshold in the currency. */
export function usdCentsInUnits(usdCents: bigint, decimals: number, priceUsd: string): bigint {
  const price = parseAmount(priceUsd, PRICE_DECIMALS);
  if (price <= 0n) throw new RangeError(`a USD price must be positive, got "${priceUsd}"`);
  const unitsPerCent = 10n ** BigInt(decimals + PRICE_DECIMALS - 2);
  return (usdCents * unitsPerCent + price - 1n) / price;
}

/** What `units` of a currency are worth at `priceUsd`, in whole cents (rounded down, so a figure never overstates). */
export function unitsInUsdCents(units: bigint, decimals: number, priceUsd: string): bigint {
  const price = parseAmount(priceUsd, PRICE_DECIMALS);
  if (price <= 0n) throw new RangeError(`a USD price must be positive, got "${priceUsd}"`);
  return (units * price) / 10n ** BigInt(decimals + PRICE_DECIMALS - 2);
}

/** How a payout's fee is charged: the operator's fixed fee, or its transaction's measured network cost (up to the fee held). */
export const feeBases = ['fixed', 'measured'] as const;
export type FeeBasis = (typeof feeBases)[number];

/**
 * `units` of one currency in base units of another, at their USD prices, rounded up (a cost passed
 * on is never short by a fraction of a unit): units × price_from × 10^to.decimals / (10^from.decimals × price_to).
 */
export function convertUnits(units: bigint, from: { decimals: number; priceUsd: string }, to: { decimals: number; priceUsd: string }): bigint {
  const priceFrom = parseAmount(from.priceUsd, PRICE_DECIMALS);
  const priceTo = parseAmount(to.priceUsd, PRICE_DECIMALS);
  if (priceFrom <= 0n || priceTo <= 0n) throw new RangeError(`USD prices must be positive, got "${from.priceUsd}" and "${to.priceUsd}"`);
  const numerator = units * priceFrom * 10n ** BigInt(to.decimals);
  const denominator = 10n ** BigInt(from.decimals) * priceTo;
  return (numerator + denominator - 1n) / denominator;
}
