import { getAddress, isAddress } from 'ethers';

/** The EIP-55 checksummed form of an EVM address, or undefined when it is not one. */
export function normalizeEvmAddress(value: string): string | undefined {
  return isAddress(value) ? getAddress(value) : undefined;
}
