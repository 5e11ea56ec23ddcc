/**
 * Watch-only address derivation (BIP-32/44). The server holds one account-level extended public
 * key per family and mode (EVM m/44'/60'/0', Tron m/44'/195'/0') and derives the receive address
 * m/…/0/i for a customer's global index i, and m/…/1/j for an order's index j: BIP-44's internal
 * chain, so the two can never collide and any BIP-44 wallet holding the mnemonic finds the funds
 * of both. No private key is ever needed or held.
 *
 * The hot path is written against @noble/curves directly: per address one HMAC-SHA512, one
 * fixed-base multiplication, one point addition and one Keccak, from a receive node parsed once.
 */
import { normalizeZ, wNAF } from '@noble/curves/abstract/curve';
import { secp256k1 } from '@noble/curves/secp256k1';
import { hmac } from '@noble/hashes/hmac';
import { keccak_256 } from '@noble/hashes/sha3';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { decodeBase58, HDNodeWallet, Mnemonic, randomBytes, toBeHex } from 'ethers';
import type { Family } from '../domain/networks';
import { tronAddressFromAccountId } from './tron/address';

export const accountPaths: Record<Family, string> = {
  evm: "m/44'/60'/0'",
  tron: "m/44'/195'/0'",
};

export type ExtendedPublicKeys = Record<Family, string>;

export class XpubError extends Error {
  override readonly name = 'XpubError';
}

const Point = secp256k1.ProjectivePoint;
const CURVE_ORDER = secp256k1.CURVE.n;
/**
 * tweak·G + parent in one variable-time pass over a precomputed table of G, left in projective
 * form: the leaf then pays one field inversion (to encode it) instead of the two that
 * `G.multiply(tweak).add(parent)` costs. Constant time buys nothing here: every input is public
 * (xpub and index). noble's own G table is sized for its endomorphism-split scalars, so this is a
 * separate full-width table (built on first use, a few MB). @noble/curves is pinned exactly for
 * its wNAF helper.
 */
const generator = Point.fromAffine(Point.BASE.toAffine());
const generatorTable = new wNAF(Point, 256);
generatorTable.createCache(generator, 8);
const toAffineTable = (points: InstanceType<typeof Point>[]) => normalizeZ(Point, points);
const XPUB_VERSION = 0x0488b21e;
const XPRV_VERSION = 0x0488ade4;
/** Non-hardened child indexes only: 0 … 2^31 − 1. */
export const MAX_CHILD_INDEX = 0x7fffffff;

interface ExtendedNode {
  chainCode: Uint8Array;
  publicKey: Uint8Array;
  point: InstanceType<typeof Point>;
}

/** Which chain under the account an address is on: customers' (…/0/i) or orders' (…/1/j). */
export type AddressBranch = 'customers' | 'orders';
const branchIndexes: Record<AddressBranch, number> = { customers: 0, orders: 1 };

/** Derives deposit addresses from the cached branch nodes (…/0 and …/1) of each family. */
export class AddressDeriver {
  private readonly branchNodes: Record<AddressBranch, Record<Family, ExtendedNode>>;

  constructor(xpubs: ExtendedPublicKeys) {
    const accounts = { evm: parseAccountXpub(xpubs.evm, 'evm'), tron: parseAccountXpub(xpubs.tron, 'tron') };
    const branch = (index: number) => ({ evm: childNode(accounts.evm, index), tron: childNode(accounts.tron, index) });
    this.branchNodes = { customers: branch(branchIndexes.customers), orders: branch(branchIndexes.orders) };
  }

  /** The address of child `index` on a branch (customers' by default): EIP-55 hex for EVM, base58check for Tron. */
  derive(family: Family, index: number, branch: AddressBranch = 'customers'): string {
    const accountId = accountIdOf(childPoint(this.branchNodes[branch][family], index).point);
    return family === 'tron' ? tronAddressFromAccountId(accountId) : toChecksumAddress(accountId);
  }

  deriveAll(index: number): Record<Family, string> {
    return { evm: this.derive('evm', index), tron: this.derive('tron', index) };
  }
}

/** BIP-32 CKDpub: the non-hardened child `index` of a public node. */
function childNode(parent: ExtendedNode, index: number): ExtendedNode {
  const { digest, point } = childPoint(parent, index);
  return { chainCode: digest.subarray(32), publicKey: point.toRawBytes(true), point };
}

/** The child's public point (and the HMAC it came from), without encoding it: leaves need less. */
function childPoint(parent: ExtendedNode, index: number): { digest: Uint8Array; point: InstanceType<typeof Point> } {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CHILD_INDEX) {
    throw new RangeError(`child index ${index} is outside 0..${MAX_CHILD_INDEX}`);
  }
  const data = new Uint8Array(37);
  data.set(parent.publicKey, 0);
  new DataView(data.buffer).setUint32(33, index);
  const digest = hmac(sha512, parent.chainCode, data);
  const tweak = BigInt(`0x${bytesToHex(digest.subarray(0, 32))}`);
  // BIP-32: such an index is invalid (probability below 2^-127); there is no key to use.
  if (tweak === 0n || tweak >= CURVE_ORDER) throw new RangeError(`child index ${index} is invalid for this key`);
  const point = generatorTable.unsafe(generator, tweak, toAffineTable, parent.point);
  if (point.equals(Point.ZERO)) throw new RangeError(`child index ${index} is invalid for this key`);
  return { digest, point };
}

/** The 20-byte account id both EVM and Tron addresses encode: Keccak-256 of the public key. */
function accountIdOf(point: InstanceType<typeof Point>): Uint8Array {
  return keccak_256(point.toRawBytes(false).subarray(1)).subarray(12);
}

/** EIP-55: hex digits upper-cased where the Keccak of the lower-case address has a high nibble. */
export function toChecksumAddress(accountId: Uint8Array): string {
  const hex = bytesToHex(accountId);
  const hash = keccak_256(new TextEncoder().encode(hex));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    out += nibble >= 8 ? hex[i]!.toUpperCase() : hex[i];
  }
  return out;
}

/** Parses and checks an account-level xpub (BIP-32 serialisation, base58check). */
function parseAccountXpub(xpub: string, family: Family): ExtendedNode {
  let bytes: Uint8Array;
  try {
    bytes = Buffer.from(toBeHex(decodeBase58(xpub.trim()), 82).slice(2), 'hex');
  } catch {
    throw new XpubError(`the ${family} key is not a valid extended public key (xpub…)`);
  }
  const payload = bytes.subarray(0, 78);
  const checksum = sha256(sha256(payload)).subarray(0, 4);
  if (bytes.length !== 82 || !checksum.every((byte, i) => byte === bytes[78 + i])) {
    throw new XpubError(`the ${family} key is not a valid extended public key (bad checksum or length)`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset);
  const version = view.getUint32(0);
  if (version === XPRV_VERSION) {
    throw new XpubError(`the ${family} key is an extended PRIVATE key; configure only its xpub (npm run cli -- keys xpub)`);
  }
  if (version !== XPUB_VERSION) throw new XpubError(`the ${family} key is not a mainnet xpub (version 0x${version.toString(16)})`);
  const depth = payload[4];
  if (depth !== 3) {
    throw new XpubError(`the ${family} xpub must be the account key at ${accountPaths[family]} (depth 3), not depth ${depth}`);
  }
  const publicKey = payload.slice(45, 78);
  let point: InstanceType<typeof Point>;
  try {
    point = Point.fromHex(publicKey);
  } catch {
    throw new XpubError(`the ${family} xpub holds no valid secp256k1 public key`);
  }
  return { chainCode: payload.slice(13, 45), publicKey, point };
}

/** The account-level xpubs of a mnemonic, as an operator configures them. */
export function xpubsFromMnemonic(phrase: string, password = ''): ExtendedPublicKeys {
  const mnemonic = Mnemonic.fromPhrase(phrase.trim().split(/\s+/).join(' '), password);
  const xpubFor = (family: Family) => HDNodeWallet.fromMnemonic(mnemonic, accountPaths[family]).neuter().extendedKey;
  return { evm: xpubFor('evm'), tron: xpubFor('tron') };
}

/** A fresh 24-word mnemonic, for throw-away development wallets only. */
export function generateMnemonic(): string {
  return Mnemonic.fromEntropy(randomBytes(32)).phrase;
}
