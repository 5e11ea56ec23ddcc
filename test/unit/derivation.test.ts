import { HDNodeWallet } from 'ethers';
import { AddressDeriver, MAX_CHILD_INDEX, xpubsFromMnemonic, XpubError } from '../../src/chains/derivation';
import { isTronAddress, tronAddressFromAccountId, tronAddressToHex } from '../../src/chains/tron/address';

const mnemonic = 'test test test test test test test test test test test junk';
const deriver = new AddressDeriver(xpubsFromMnemonic(mnemonic));

/** The same address derived the other way: from the seed, through every private key on the path. */
function fromSeed(path: string): string {
  return HDNodeWallet.fromPhrase(mnemonic, '', path).address;
}

describe('EVM addresses from the account xpub', () => {
  it("give the well-known first account of the test mnemonic at m/44'/60'/0'/0/0", () => {
    expect(deriver.derive('evm', 0)).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  it('equal derivation from the seed, in EIP-55 form, for many indexes', () => {
    const indexes = [...Array.from({ length: 40 }, (_, i) => i), 1_000, 65_535, 1_000_000, MAX_CHILD_INDEX];
    for (const index of indexes) {
      expect([index, deriver.derive('evm', index)]).toEqual([index, fromSeed(`m/44'/60'/0'/0/${index}`)]);
    }
  });

  it('refuse indexes outside the non-hardened range', () => {
    expect(() => deriver.derive('evm', MAX_CHILD_INDEX + 1)).toThrow(RangeError);
    expect(() => deriver.derive('evm', -1)).toThrow(RangeError);
    expect(() => deriver.derive('evm', 1.5)).toThrow(RangeError);
  });
});

describe('order addresses, on a branch of their own', () => {
  it("equal derivation from the seed at m/44'/60'/0'/1/j and m/44'/195'/0'/1/j (BIP-44's internal chain)", () => {
    for (const index of [0, 1, 2, 77, 1_000_000]) {
      expect([index, deriver.derive('evm', index, 'orders')]).toEqual([index, fromSeed(`m/44'/60'/0'/1/${index}`)]);
      const tronId = fromSeed(`m/44'/195'/0'/1/${index}`);
      expect(deriver.derive('tron', index, 'orders')).toBe(tronAddressFromAccountId(Buffer.from(tronId.slice(2), 'hex')));
    }
  });

  it('never equal a customer address, whatever the two indexes', () => {
    const customers = new Set(Array.from({ length: 200 }, (_, index) => deriver.derive('evm', index)));
    for (let index = 0; index < 200; index++) expect(customers.has(deriver.derive('evm', index, 'orders'))).toBe(false);
  });
});

describe('Tron addresses', () => {
  it("from the xpub equal derivation from the seed at m/44'/195'/0'/0/i", () => {
    for (const index of [0, 1, 2, 3, 99, 123_456]) {
      const accountId = fromSeed(`m/44'/195'/0'/0/${index}`);
      expect(deriver.derive('tron', index)).toBe(tronAddressFromAccountId(Buffer.from(accountId.slice(2), 'hex')));
    }
  });

  it("give the widely published first Tron address of BIP-39's first vector (abandon … about)", () => {
    const abandon = new AddressDeriver(xpubsFromMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'));
    expect(abandon.derive('tron', 0)).toBe('TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH');
  });

  it('encode the published TRON documentation example (hex 41… ⇄ base58check)', () => {
    // TRON developer documentation, "Account" → address format example.
    expect(tronAddressFromAccountId(Buffer.from('8840E6C55B9ADA326D211D818C34A994AECED808', 'hex'))).toBe('TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL');
    expect(tronAddressToHex('TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL')).toBe('418840e6c55b9ada326d211d818c34a994aeced808');
  });

  it('accept the CryptoPayments seed address and reject every one-character change of it', () => {
    const seedAddress = 'TVXnBrRG7qgTB5hV19sLQx6AFFTkz4gSik';
    expect(isTronAddress(seedAddress)).toBe(true);
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
    let variants = 0;
    for (let position = 0; position < seedAddress.length; position++) {
      for (const replacement of alphabet) {
        if (replacement === seedAddress[position]) continue;
        const changed = seedAddress.slice(0, position) + replacement + seedAddress.slice(position + 1);
        expect([changed, isTronAddress(changed)]).toEqual([changed, false]);
        variants++;
      }
    }
    expect(variants).toBe(34 * 57);
  });

  it('reject what is not a Tron address', () => {
    for (const value of ['', 'T', '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'TVXnBrRG7qgTB5hV19sLQx6AFFTkz4gSi0', 'tVXnBrRG7qgTB5hV19sLQx6AFFTkz4gSik']) {
      expect(isTronAddress(value)).toBe(false);
    }
  });
});

describe('extended keys', () => {
  it('make different addresses per family and per mnemonic', () => {
    const other = new AddressDeriver(xpubsFromMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'));
    expect(other.derive('evm', 0)).not.toBe(deriver.derive('evm', 0));
    expect(tronAddressToHex(deriver.derive('tron', 0))!.slice(2)).not.toBe(deriver.derive('evm', 0).slice(2).toLowerCase());
  });

  it('refuse a private key, a key at the wrong depth and garbage, saying why', () => {
    const account = HDNodeWallet.fromPhrase(mnemonic, '', "m/44'/60'/0'");
    const xpubs = xpubsFromMnemonic(mnemonic);
    expect(() => new AddressDeriver({ ...xpubs, evm: account.extendedKey })).toThrow(
      new XpubError('the evm key is an extended PRIVATE key; configure only its xpub (npm run cli -- keys xpub)'),
    );
    const receive = HDNodeWallet.fromPhrase(mnemonic, '', "m/44'/60'/0'/0").neuter().extendedKey;
    expect(() => new AddressDeriver({ ...xpubs, evm: receive })).toThrow(/account key at m\/44'\/60'\/0' \(depth 3\), not depth 4/);
    expect(() => new AddressDeriver({ ...xpubs, tron: 'xpub-not-really' })).toThrow(XpubError);
    expect(() => new AddressDeriver({ ...xpubs, tron: `${xpubs.tron.slice(0, -1)}${xpubs.tron.endsWith('a') ? 'b' : 'a'}` })).toThrow(/checksum/);
  });
});
