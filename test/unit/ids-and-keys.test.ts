import { createHash } from 'node:crypto';
import { generateApiKey, hashApiKey, modeOfKey, redactApiKey } from '../../src/domain/api-keys';
import { isId, newId } from '../../src/domain/ids';

describe('object ids', () => {
  it('carry their type prefix and 26 base32 characters', () => {
    const id = newId('merchant');
    expect(id).toMatch(/^mch_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(isId('merchant', id)).toBe(true);
    expect(isId('apiKey', id)).toBe(false);
  });

  it('sort by creation time, to the millisecond', () => {
    const times = [0, 1, 31, 32, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const ids = times.map((time) => newId('request', time));
    expect([...ids].sort()).toEqual(ids);
  });

  it('do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('request', 1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});

describe('API keys', () => {
  it('carry their mode in the prefix and 256 random bits in 43 base62 characters', () => {
    const test = generateApiKey('test');
    const live = generateApiKey('live');
    expect(test).toMatch(/^sk_test_[0-9A-Za-z]{43}$/);
    expect(live).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    expect(modeOfKey(test)).toBe('test');
    expect(modeOfKey(live)).toBe('live');
    expect(generateApiKey('test')).not.toBe(test);
  });

  it('tell no mode for anything malformed', () => {
    for (const key of ['', 'sk_test_', 'sk_test_short', `pk_test_${'a'.repeat(43)}`, `sk_prod_${'a'.repeat(43)}`, `sk_test_${'a'.repeat(42)}!`]) {
      expect(modeOfKey(key)).toBeUndefined();
    }
  });

  it('hash to the hex SHA-256 of the whole key', () => {
    const key = generateApiKey('live');
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('redact to the prefix and last four characters', () => {
    const key = generateApiKey('test');
    expect(redactApiKey(key)).toBe(`sk_test_…${key.slice(-4)}`);
  });
});
