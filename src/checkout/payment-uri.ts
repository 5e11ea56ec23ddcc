/**
 * What the payment page's QR code holds: a request a wallet can fill in from one scan.
 *
 * EVM networks: an EIP-681 URI. Native coin is `ethereum:<address>@<chain id>?value=<base units>`;
 * a token is a call of its `transfer`: `ethereum:<token>@<chain id>/transfer?address=<address>&uint256=<base units>`.
 * The chain id is given where it is known (live mode's public networks); a test network's is not
 * (a devnet or a testnet, the operator's choice), and a wallet then uses the chain it is on.
 * A token request needs the token's contract: without one configured for the network and mode, the
 * code holds the bare address and the page states the amount.
 *
 * Tron: no URI scheme is common to Tron wallets (TronLink and the exchanges' apps scan a bare
 * base58 address and ignore anything else), so the code holds the address, and the page the amount.
 */
import type { Mode } from '../domain/mode';
import { networks, type Network } from '../domain/networks';

/** The public chains' EIP-155 ids, for live mode. */
const liveChainIds: Partial<Record<Network, number>> = { ethereum: 1, polygon: 137, bsc: 56, arbitrum: 42161, base: 8453 };

export interface PaymentRequest {
  network: Network;
  mode: Mode;
  currency: string;
  address: string;
  /** Base units. */
  amount: bigint;
  /** The currency's contract on this network and mode, when it is a token inflow watches. */
  tokenContract: string | undefined;
}

/** The QR code's text, and whether it carries the amount (else the payer types it). */
export function paymentUri(request: PaymentRequest): { uri: string; carriesAmount: boolean } {
  const definition = networks[request.network];
  if (definition.family === 'tron') return { uri: request.address, carriesAmount: false };
  const chain = request.mode === 'live' && liveChainIds[request.network] ? `@${liveChainIds[request.network]}` : '';
  if (request.currency === definition.nativeCurrency) {
    return { uri: `ethereum:${request.address}${chain}?value=${request.amount}`, carriesAmount: true };
  }
  if (!request.tokenContract) return { uri: request.address, carriesAmount: false };
  return { uri: `ethereum:${request.tokenContract}${chain}/transfer?address=${request.address}&uint256=${request.amount}`, carriesAmount: true };
}
