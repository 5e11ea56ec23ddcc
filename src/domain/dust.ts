/**
 * Dust: a transfer to a customer's address so small that crediting it would cost more than it
 * brings. Sending one token unit costs an attacker one transaction fee (cents on Polygon, BSC or
 * Tron) and would cost inflow a deposit workflow, its events, its webhooks and a ledger booking.
 * Below its currency's threshold a transfer is recorded as a `dust` deposit and nothing more.
 * Payments to orders are never dust: they were asked for. Thresholds are whole units per currency
 * symbol, on every network (INFLOW_DUST_THRESHOLDS overrides them; 0 turns one off).
 */
import { parseAmount } from './money';

export const defaultDustThresholds: Record<string, string> = {
  USDT: '0.01',
  USDC: '0.01',
  ETH: '0.000001',
  BNB: '0.00001',
  POL: '0.01',
  TRX: '0.1',
};

/** Parses INFLOW_DUST_THRESHOLDS, e.g. "USDT=0.5,ETH=0": overrides on top of the defaults. */
export function parseDustThresholds(text: string | undefined): Record<string, string> {
  const thresholds = { ...defaultDustThresholds };
  for (const pair of (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [currency, amount] = pair.split('=').map((part) => part.trim());
    if (!currency || !amount || !/^\d+(\.\d{1,18})?$/.test(amount))
      throw new RangeError(`entry "${pair}" is not CURRENCY=AMOUNT (a plain decimal, 0 for none)`);
    thresholds[currency.toUpperCase()] = amount;
  }
  return thresholds;
}

/** The smallest amount of `currency` credited, in base units (0: every amount is). */
export function dustThreshold(thresholds: Record<string, string>, currency: string, decimals: number): bigint {
  const threshold = thresholds[currency];
  if (threshold === undefined) return 0n;
  const [whole, fraction = ''] = threshold.split('.');
  // More places than the currency has: the threshold rounds up to the next base unit.
  const head = fraction.slice(0, decimals);
  const kept = parseAmount(head ? `${whole}.${head}` : whole!, decimals);
  return fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals)) ? kept + 1n : kept;
}
