import { testSecretKey } from '../../dev/fixtures';
import { assetToFiat, exchangeRate, fiatToAsset } from '../../src/domain/exchange';
import { settleOrder } from '../../src/domain/order-state';
import { generateSecretKey, parseSecretKey, sealApiKey, SecretKeyError, unsealApiKey } from '../../src/merchants/sealed-keys';

describe('fiat amounts at a locked rate', () => {
  it('derives the rate from two USD prices, truncated to 8 places', () => {
    expect(exchangeRate('3000.00', '1.08')).toBe('2777.77777777');
    expect(exchangeRate('1.00', '1')).toBe('1.00000000');
    expect(exchangeRate('0.25', '1.08')).toBe('0.23148148');
    expect(() => exchangeRate('0', '1.08')).toThrow(RangeError);
    expect(() => exchangeRate('0.00000001', '100000000')).toThrow(RangeError);
  });

  it('converts fiat to the asset rounding up (the merchant gets at least the fiat), and back rounding down', () => {
    // 50.00 EUR of USDT at 0.92592592 EUR per USDT: 54.0000004… → 54.000001.
    const units = fiatToAsset(5_000n, '0.92592592', 6);
    expect(units).toBe(54_000_001n);
    expect(assetToFiat(units, '0.92592592', 6)).toBe(5_000n);
    expect(assetToFiat(units - 1n, '0.92592592', 6)).toBe(4_999n);
    // 18 decimals, no float anywhere: 100 EUR of ETH at 2777.77777777.
    expect(fiatToAsset(10_000n, '2777.77777777', 18)).toBe(36_000_000_000_100_801n);
    expect(assetToFiat(36_000_000_000_100_801n, '2777.77777777', 18)).toBe(10_000n);
  });
});

describe('settling an order from its payments', () => {
  const order = (expired: boolean) => ({ amount: 100n, expired });
  it.each([
    [order(false), { received: 100n, inFlight: 0 }, 'completed'],
    [order(false), { received: 150n, inFlight: 1 }, 'completed'],
    [order(false), { received: 99n, inFlight: 0 }, 'pending'],
    [order(true), { received: 0n, inFlight: 1 }, 'pending'],
    [order(true), { received: 40n, inFlight: 1 }, 'pending'],
    [order(true), { received: 40n, inFlight: 0 }, 'underpaid'],
    [order(true), { received: 0n, inFlight: 0 }, 'expired'],
    [order(true), { received: 100n, inFlight: 0 }, 'completed'],
  ])('%j with %j → %s', (input, payments, status) => {
    expect(settleOrder(input, payments)).toBe(status);
  });
});

describe('sealed API keys', () => {
  const apiKey = `sk_test_${'A'.repeat(43)}`;

  it('open with the server key on the row they were sealed for, and nowhere else', () => {
    const sealed = sealApiKey(apiKey, testSecretKey, 'key_1');
    expect(sealed).not.toContain(apiKey.slice(8));
    expect(sealed).not.toBe(sealApiKey(apiKey, testSecretKey, 'key_1'));
    expect(unsealApiKey(sealed, testSecretKey, 'key_1')).toBe(apiKey);
    expect(() => unsealApiKey(sealed, testSecretKey, 'key_2')).toThrow(SecretKeyError);
    expect(() => unsealApiKey(sealed, parseSecretKey(generateSecretKey()), 'key_1')).toThrow(SecretKeyError);
    const [version, iv, tag, data] = sealed.split('.');
    const flipped = Buffer.from(data!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => unsealApiKey([version, iv, tag, flipped.toString('base64')].join('.'), testSecretKey, 'key_1')).toThrow(SecretKeyError);
  });

  it('take a 32-byte server key in hex or base64, and nothing else', () => {
    expect(parseSecretKey(generateSecretKey())).toHaveLength(32);
    expect(() => parseSecretKey('00'.repeat(31))).toThrow(SecretKeyError);
    expect(() => parseSecretKey('secret')).toThrow(SecretKeyError);
  });
});
