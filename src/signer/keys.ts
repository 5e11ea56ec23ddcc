/**
 * Key material, behind the one small interface the signer uses: a key at a BIP-32 path has an
 * address and signs 32-byte digests. The mnemonic source below keeps the seed in this process's
 * memory; a KMS or HSM source would implement the same two calls with keys that never leave it.
 *
 * Wallet layout, one mnemonic per mode (EVM, coin type 60):
 *   m/44'/60'/0'/0/i   deposit addresses of customers (the xpub the API derives them from is m/44'/60'/0')
 *   m/44'/60'/0'/1/j   deposit addresses of orders
 *   m/44'/60'/1'/0/0   the gas wallet: pays gas top-ups to deposit addresses
 *   m/44'/60'/2'/0/0   the hot wallet: the treasury's, which pays payouts (`npm run dev`'s development
 *                      treasury, so sweeps fill it; in production, configure the treasury as this address)
 * Accounts 1' and 2' are hardened: the API's xpub (account 0') can derive nothing under them.
 *
 * Tron mirrors it under coin type 195 (the API's Tron xpub is m/44'/195'/0'):
 *   m/44'/195'/0'/0/i  m/44'/195'/0'/1/j  deposit addresses;  m/44'/195'/1'/0/0  the Tron gas wallet;
 *   m/44'/195'/2'/0/0  the Tron hot wallet, which pays Tron payouts (`npm run dev`'s development Tron treasury)
 * A Tron address is the same 20-byte account id as the key's EVM address, base58check with 0x41 in front.
 */
import { readFile, stat } from 'node:fs/promises';
import { getBytes, HDNodeWallet, Mnemonic, type Signature } from 'ethers';
import { tronAddressFromAccountId } from '../chains/tron/address';
import type { DepositBranch } from '../treasury/signer-protocol';

export const DEPOSIT_ACCOUNT_PATH = "m/44'/60'/0'";
export const GAS_WALLET_PATH = "m/44'/60'/1'/0/0";
/** The treasury's hot wallet, which pays payouts (the same path as `npm run dev`'s development treasury, so sweeps fill it). */
export const HOT_WALLET_PATH = "m/44'/60'/2'/0/0";
export const TRON_DEPOSIT_ACCOUNT_PATH = "m/44'/195'/0'";
export const TRON_GAS_WALLET_PATH = "m/44'/195'/1'/0/0";
/** Tron's hot wallet, which pays Tron payouts (the same path as `npm run dev`'s development Tron treasury). */
export const TRON_HOT_WALLET_PATH = "m/44'/195'/2'/0/0";

export function depositPath(branch: DepositBranch, index: number): string {
  return `${DEPOSIT_ACCOUNT_PATH}/${branch === 'customers' ? 0 : 1}/${index}`;
}

export function tronDepositPath(branch: DepositBranch, index: number): string {
  return `${TRON_DEPOSIT_ACCOUNT_PATH}/${branch === 'customers' ? 0 : 1}/${index}`;
}

/** The Tron address (T…) of a key: its account id, base58check with 0x41 in front. */
export function tronAddressOfKey(key: SigningKey): string {
  return tronAddressFromAccountId(getBytes(key.address));
}

export interface SigningKey {
  /** EIP-55 address of the key. */
  readonly address: string;
  /** A secp256k1 signature (RFC 6979, deterministic) of a 32-byte digest (0x hex). */
  sign(digest: string): Signature;
}

export interface KeySource {
  /** The key at a BIP-32 path (m/44'/60'/…). */
  key(path: string): SigningKey;
}

export class KeySourceError extends Error {
  override readonly name = 'KeySourceError';
}

/** Keys derived from a BIP-39 mnemonic (no passphrase), the root computed once and derived keys cached. */
export class MnemonicKeySource implements KeySource {
  private readonly root: HDNodeWallet;
  private readonly cache = new Map<string, SigningKey>();

  constructor(phrase: string) {
    let mnemonic: Mnemonic;
    try {
      mnemonic = Mnemonic.fromPhrase(phrase.trim().split(/\s+/).join(' '));
    } catch {
      throw new KeySourceError('is not a BIP-39 mnemonic (12 to 24 English words with a valid checksum)');
    }
    this.root = HDNodeWallet.fromSeed(mnemonic.computeSeed());
  }

  key(path: string): SigningKey {
    let key = this.cache.get(path);
    if (!key) {
      const node = this.root.derivePath(path);
      key = { address: node.address, sign: (digest) => node.signingKey.sign(digest) };
      // Bounded: a deposit index per request at most, and far fewer distinct ones in practice.
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(path, key);
    }
    return key;
  }
}

/**
 * The mnemonic in `file`: a file private to its owner (like an SSH key, one readable by group or
 * others is refused), holding the words and nothing else.
 */
export async function mnemonicKeySourceFromFile(file: string): Promise<MnemonicKeySource> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new KeySourceError(`cannot be read (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new KeySourceError('is not a file');
  if ((info.mode & 0o077) !== 0) throw new KeySourceError(`is readable by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`);
  return new MnemonicKeySource(await readFile(file, 'utf8'));
}
