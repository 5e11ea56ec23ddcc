/**
 * EVM addresses as the scan handles them. Nodes write addresses in lower case; EIP-55's mixed case,
 * the form inflow stores and reports, costs a keccak per address, which in a range of blocks full
 * of transfers was most of a round's CPU (three per Transfer log). So the scan reads and matches
 * addresses in lower case, and writes only the transfers it keeps in EIP-55 form.
 */
import { getAddress } from 'ethers';
import { MalformedNodeAnswerError } from '../chain-adapter';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** A node's address, checked for its form and lower-cased; anything else fails the round. */
export function lowerCaseAddress(value: unknown, where: () => string): string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw new MalformedNodeAnswerError(`${where()} has no address: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** A transfer or payment with its addresses in EIP-55 form. */
export function withEip55<T extends { from: string; to: string }>(found: T): T {
  return { ...found, from: getAddress(found.from), to: getAddress(found.to) };
}
