/**
 * Exact money: amounts are bigint base units inside inflow and decimal strings at the API's edge.
 * No floating point anywhere on this path.
 */
export class AmountFormatError extends Error {
  override readonly name = 'AmountFormatError';
}

const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;
/** No on-chain amount exceeds a 256-bit word; nothing larger is accepted. */
export const MAX_BASE_UNITS = 2n ** 256n - 1n;

/**
 * Parses a non-negative decimal string ("25", "25.5", "0.000001") into base units of an asset with
 * `decimals` places. Exponents, signs, spaces and more fraction digits than the asset has are
 * refused, never rounded.
 */
export function parseAmount(text: string, decimals: number): bigint {
  const match = DECIMAL.exec(text);
  if (!match) throw new AmountFormatError(`"${text}" is not a plain decimal number such as "25.50"`);
  const fraction = match[2] ?? '';
  if (fraction.length > decimals) throw new AmountFormatError(`"${text}" has more than ${decimals} decimal places`);
  if (match[1]!.length > 80) throw new AmountFormatError(`"${text}" is larger than any on-chain amount`);
  const units = BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
  if (units > MAX_BASE_UNITS) throw new AmountFormatError(`"${text}" is larger than any on-chain amount`);
  return units;
}

/** Base units as a decimal string at the asset's full precision: 2000000n, 6 → "2.000000". */
export function formatAmount(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

/** US dollars in cents, shown with two decimals: 150000n → "1500.00". */
export function formatUsdCents(cents: bigint): string {
  return formatAmount(cents, 2);
}
