/**
 * Tron addresses: the same 20-byte account id an EVM address encodes for a key, prefixed with
 * 0x41 and written in base58check (checksum: the first 4 bytes of a double SHA-256).
 */
import { sha256 } from '@noble/hashes/sha2';
import { decodeBase58, encodeBase58, getBytes, toBeHex } from 'ethers';

const TRON_PREFIX = 0x41;

export function tronAddressFromAccountId(accountId: Uint8Array): string {
  const bytes = new Uint8Array(25);
  bytes[0] = TRON_PREFIX;
  bytes.set(accountId, 1);
  bytes.set(checksum(bytes.subarray(0, 21)), 21);
  return encodeBase58(bytes);
}

/** The 41… hex form of a valid Tron address, or undefined when it is not one. */
export function tronAddressToHex(address: string): string | undefined {
  if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(address)) return undefined;
  const bytes = getBytes(toBeHex(decodeBase58(address), 25));
  const payload = bytes.subarray(0, 21);
  if (payload[0] !== TRON_PREFIX || !checksum(payload).every((byte, i) => byte === bytes[21 + i])) return undefined;
  return Buffer.from(payload).toString('hex');
}

export function isTronAddress(address: string): boolean {
  return tronAddressToHex(address) !== undefined;
}

function checksum(payload: Uint8Array): Uint8Array {
  return sha256(sha256(payload)).subarray(0, 4);
}
