import { nextStatus, canTransition } from '../../src/domain/deposit-state';
import { computeFee, convertUnits, usdCentsInUnits } from '../../src/domain/fees';
import { AmountFormatError, formatAmount, parseAmount } from '../../src/domain/money';

describe('amounts', () => {
  it.each([
    ['25', 6, 25_000_000n],
    ['25.5', 6, 25_500_000n],
    ['0.000001', 6, 1n],
    ['0', 6, 0n],
    ['1.000000000000000001', 18, 1_000_000_000_000_000_001n],
    ['115792089237316195423570985008687907853269984665640564039457.584007913129639935', 18, 2n ** 256n - 1n],
  ])('parse %s with %i decimals into exact base units', (text, decimals, units) => {
    expect(parseAmount(text, decimals)).toBe(units);
    expect(parseAmount(formatAmount(units, decimals), decimals)).toBe(units);
  });

  it.each(['1e3', '-5', '+5', ' 5', '5 ', '05', '.5', '5.', '0x10', '1,000', '', 'NaN', '0.1234567'])('refuse %j for a 6-decimal asset', (text) => {
    expect(() => parseAmount(text, 6)).toThrow(AmountFormatError);
  });

  it('refuse amounts beyond a 256-bit word', () => {
    expect(() => parseAmount(`1${'0'.repeat(77)}`, 6)).toThrow(/larger than any on-chain amount/);
    expect(() => parseAmount('9'.repeat(100), 0)).toThrow(AmountFormatError);
  });

  it('format at the full precision of the asset', () => {
    expect(formatAmount(2_000_000_000n, 6)).toBe('2000.000000');
    expect(formatAmount(1n, 18)).toBe('0.000000000000000001');
    expect(formatAmount(0n, 6)).toBe('0.000000');
    expect(formatAmount(-1_500_000n, 6)).toBe('-1.500000');
    expect(formatAmount(150_000n, 2)).toBe('1500.00');
  });
});

describe('the flat USD 2.00 fee', () => {
  it('takes all of a $2.00 USDT deposit: fee 2.000000, net 0', () => {
    expect(computeFee({ amount: parseAmount('2', 6), decimals: 6, priceUsd: '1.00' })).toEqual({
      fee: 2_000_000n,
      net: 0n,
      amountUsdCents: 200n,
      feeUsdCents: 200n,
    });
  });

  it('never takes more than the deposit: $1 → fee 1.000000, net 0, and it is not an error', () => {
    expect(computeFee({ amount: parseAmount('1', 6), decimals: 6, priceUsd: '1.00' })).toEqual({
      fee: 1_000_000n,
      net: 0n,
      amountUsdCents: 100n,
      feeUsdCents: 100n,
    });
  });

  it('records a zero or dust deposit with a zero net', () => {
    expect(computeFee({ amount: 0n, decimals: 6, priceUsd: '1.00' })).toEqual({ fee: 0n, net: 0n, amountUsdCents: 0n, feeUsdCents: 0n });
    expect(computeFee({ amount: 1n, decimals: 18, priceUsd: '3000.00' })).toMatchObject({ fee: 1n, net: 0n });
  });

  it('converts at the captured price, in wei, exactly: 0.5 ETH at $3000.00', () => {
    // fee = 2.00 USD / 3000.00 USD per ETH = 1/1500 ETH = 10^18 / 1500 wei = 666 666 666 666 666.66… wei,
    // rounded down (never more than USD 2.00): 666 666 666 666 666 wei. Net = 5·10^17 − that.
    // The deposit is worth 0.5 × 3000.00 = USD 1500.00 = 150 000 cents.
    const result = computeFee({ amount: parseAmount('0.5', 18), decimals: 18, priceUsd: '3000.00' });
    expect(result.fee).toBe(666_666_666_666_666n);
    expect(result.net).toBe(500_000_000_000_000_000n - 666_666_666_666_666n);
    expect(formatAmount(result.net, 18)).toBe('0.499333333333333334');
    expect(result.amountUsdCents).toBe(150_000n);
    expect(result.feeUsdCents).toBe(200n);
  });

  it('handles 18-decimal stablecoins (BSC) and prices with 8 decimals', () => {
    expect(computeFee({ amount: parseAmount('100', 18), decimals: 18, priceUsd: '1.00' })).toMatchObject({ fee: 2n * 10n ** 18n, net: 98n * 10n ** 18n });
    // 2.00 / 0.12345678 = 16.2000014…, rounded down to 6 decimals.
    expect(computeFee({ amount: parseAmount('1000', 6), decimals: 6, priceUsd: '0.12345678' }).fee).toBe(16_200_001n);
  });

  it('refuses a price that is not positive', () => {
    expect(() => computeFee({ amount: 1n, decimals: 6, priceUsd: '0' })).toThrow(RangeError);
  });
});

describe('deposit states', () => {
  it('move detected → confirming → completed on canonical reports', () => {
    expect(nextStatus('detected', { confirmations: 0, canonical: true }, 12)).toBe('detected');
    expect(nextStatus('detected', { confirmations: 1, canonical: true }, 12)).toBe('confirming');
    expect(nextStatus('confirming', { confirmations: 11, canonical: true }, 12)).toBe('confirming');
    expect(nextStatus('confirming', { confirmations: 12, canonical: true }, 12)).toBe('completed');
    expect(nextStatus('detected', { confirmations: 40, canonical: true }, 12)).toBe('completed');
  });

  it('fail on a reorg report, before or after completion, and never leave failed', () => {
    expect(nextStatus('confirming', { confirmations: 5, canonical: false }, 12)).toBe('failed');
    expect(nextStatus('completed', { confirmations: 20, canonical: false }, 12)).toBe('failed');
    expect(nextStatus('failed', { confirmations: 20, canonical: true }, 12)).toBe('failed');
    expect(canTransition('failed', 'completed')).toBe(false);
    expect(canTransition('completed', 'confirming')).toBe(false);
  });
});

describe('a USD threshold in a currency', () => {
  it('is the fewest base units worth at least that much, rounded up', () => {
    expect(usdCentsInUnits(500n, 6, '1.00')).toBe(5_000_000n);
    // $5 of ETH at $3000: 0.001666… ETH, rounded up to the wei.
    expect(usdCentsInUnits(500n, 18, '3000.00')).toBe(1_666_666_666_666_667n);
    expect(usdCentsInUnits(1n, 6, '3')).toBe(3_334n);
    expect(() => usdCentsInUnits(500n, 6, '0')).toThrow('a USD price must be positive');
  });
});

describe('a network cost in the currency paid out', () => {
  it('converts base units between currencies at their USD prices, rounded up to the unit', () => {
    // 27.3 TRX burned at $0.25 is $6.825: 6.825 USDT at $1.
    expect(convertUnits(27_300_000n, { decimals: 6, priceUsd: '0.25' }, { decimals: 6, priceUsd: '1.00' })).toBe(6_825_000n);
    // 0.000042 ETH of gas at $3000 is $0.126: 126,000 USDT units; and in a token at $1.08, rounded up.
    expect(convertUnits(42_000_000_000_000n, { decimals: 18, priceUsd: '3000.00' }, { decimals: 6, priceUsd: '1.00' })).toBe(126_000n);
    expect(convertUnits(42_000_000_000_000n, { decimals: 18, priceUsd: '3000.00' }, { decimals: 6, priceUsd: '1.08' })).toBe(116_667n);
    // A wei of gas still costs a unit: never short by a fraction.
    expect(convertUnits(1n, { decimals: 18, priceUsd: '3000.00' }, { decimals: 6, priceUsd: '1.00' })).toBe(1n);
    expect(convertUnits(0n, { decimals: 18, priceUsd: '3000.00' }, { decimals: 6, priceUsd: '1.00' })).toBe(0n);
    expect(() => convertUnits(1n, { decimals: 6, priceUsd: '0' }, { decimals: 6, priceUsd: '1' })).toThrow('USD prices must be positive');
  });
});
