/**
 * The signer's policy, as pure functions: whatever the worker asks, a transaction is signed only
 * if it is one of these (docs/treasury.md, "Policy"):
 *
 *   sweep      from a deposit address: a native transfer of value > 0 to the treasury, no data; or
 *              a call of a known token contract, value 0, data exactly transfer(treasury, amount > 0)
 *   gas_topup  from the gas wallet: a native transfer of 0 < value ≤ the cap, no data, to the
 *              address derived for `destination` (a deposit address)
 *   payout     from the hot wallet: exactly the terms of `payout`, which the API authorised
 *              (src/treasury/payout-authorization.ts): a native transfer of value = amount to
 *              the destination, no data; or a call of the currency's token contract, value 0,
 *              data exactly transfer(destination, amount); amount > 0 and within the cap, if any
 *
 * and, for all, the network's treasury is configured, the chain id is the configured one, and
 * the fee it may cost (gas_limit × max_fee_per_gas) is within the network's cap. Each refusal
 * names the rule it broke. (That a payout is signed at one nonce only is the server's rule,
 * `payout_once`: it needs what was signed before.)
 */
import { getAddress } from 'ethers';
import { formatAmount } from '../domain/money';
import { currencyOn, networks, type Network } from '../domain/networks';
import { verifyPayoutAuthorization } from '../treasury/payout-authorization';
import type { SignRequest } from '../treasury/signer-protocol';
import type { SignerNetworkPolicy } from './config';

/** transfer(address,uint256) */
export const TRANSFER_SELECTOR = '0xa9059cbb';
const MIN_GAS_LIMIT = 21_000n;

export interface TokenTransfer {
  contract: string;
  currency: string;
  recipient: string;
  amount: bigint;
}

export type Decision = { allowed: true; token?: TokenTransfer } | { allowed: false; rule: string; message: string };

export interface PolicyContext {
  /** The network's policy in the request's mode (undefined: not an EVM network). */
  policy: SignerNetworkPolicy | undefined;
  /** Whether the request's mode has key material. */
  hasKeys: boolean;
  /** gas_topup: the address derived for the request's `destination`. */
  destinationAddress?: string;
  /** INFLOW_PAYOUT_AUTHORIZATION_SECRET: what a payout's authorization is checked with (unset: no payout is signed). */
  payoutSecret?: string | undefined;
}

const refuse = (rule: string, message: string): Decision => ({ allowed: false, rule, message });

export function decide(request: SignRequest, context: PolicyContext): Decision {
  const { mode, network, tx } = request;
  const suffix = `${network.toUpperCase()}_${mode.toUpperCase()}`;
  const where = `${network} in ${mode} mode`;
  if (networks[network].family !== 'evm' || !context.policy)
    return refuse('evm_only', `${network} is not signed for: this signer signs for EVM networks only (Tron signing comes in a later part)`);
  const { policy } = context;
  if (!context.hasKeys)
    return refuse(
      'mode_without_keys',
      `${mode} mode has no key material (INFLOW_SIGNER_MNEMONIC_FILE_${mode.toUpperCase()} is unset): nothing is signed in it`,
    );
  if (!policy.treasury) return refuse('no_treasury', `no treasury is configured for ${where} (INFLOW_TREASURY_${suffix}): nothing is signed for it`);
  if (policy.chainId !== undefined && tx.chain_id !== policy.chainId)
    return refuse(
      'chain_id',
      `chain_id ${tx.chain_id} is not ${where}'s ${policy.chainId} (INFLOW_SIGNER_CHAIN_ID_${suffix}): a transaction signed for another chain could be replayed there`,
    );
  const gasLimit = BigInt(tx.gas_limit);
  const maxFee = BigInt(tx.max_fee_per_gas);
  const priorityFee = BigInt(tx.max_priority_fee_per_gas);
  if (gasLimit < MIN_GAS_LIMIT) return refuse('gas_limit', `gas_limit ${gasLimit} is below ${MIN_GAS_LIMIT}, the least any transaction uses`);
  if (priorityFee > maxFee) return refuse('fees', `max_priority_fee_per_gas ${priorityFee} is above max_fee_per_gas ${maxFee}`);
  if (gasLimit * maxFee > policy.maxFeeWei)
    return refuse(
      'fee_cap',
      `the fee could reach ${gasLimit * maxFee} wei (gas_limit × max_fee_per_gas), above the ${policy.maxFeeWei} wei one transaction may pay on ${where} (INFLOW_SIGNER_MAX_FEE_WEI_${suffix})`,
    );
  const value = BigInt(tx.value);
  const to = getAddress(tx.to);
  const treasury = policy.treasury;

  if (request.kind === 'payout') return decidePayout(request, context, policy);

  if (request.kind === 'sweep') {
    if (request.from.wallet !== 'deposit')
      return refuse('sweep_from', `a sweep is sent from a deposit address (from.wallet "deposit"), not from the ${request.from.wallet} wallet`);
    if (request.destination) return refuse('sweep_destination', 'a sweep has no destination: it pays the treasury');
    if (request.payout) return refuse('payout_details', 'a sweep carries no payout: only a payout (kind "payout") does');
    if (tx.data === '0x') {
      if (value <= 0n) return refuse('sweep_value', 'a native sweep sends a value above 0');
      if (to !== treasury) return refuse('sweep_to_treasury', `a native sweep may only pay ${where}'s treasury ${treasury}, not ${to}`);
      return { allowed: true };
    }
    const currency = policy.tokens.get(to.toLowerCase());
    if (!currency)
      return refuse(
        'token_contract',
        `${to} is not a token contract of ${where} (the registry's or INFLOW_TOKEN_${network.toUpperCase()}_<CURRENCY>_${mode.toUpperCase()})`,
      );
    if (value !== 0n) return refuse('token_value', 'a token sweep sends no native value (value "0")');
    const transfer = decodeTransfer(tx.data);
    if (!transfer) return refuse('token_calldata', `a token sweep's data must be exactly transfer(${treasury}, amount) ABI-encoded, and nothing else`);
    if (transfer.recipient !== treasury)
      return refuse('sweep_to_treasury', `a token sweep may only pay ${where}'s treasury ${treasury}, not ${transfer.recipient}`);
    if (transfer.amount <= 0n) return refuse('token_amount', 'a token sweep transfers an amount above 0');
    return { allowed: true, token: { contract: to, currency, ...transfer } };
  }

  if (request.from.wallet !== 'gas') return refuse('topup_from', 'a gas top-up is sent from the gas wallet (from.wallet "gas")');
  if (request.payout) return refuse('payout_details', 'a gas top-up carries no payout: only a payout (kind "payout") does');
  if (!request.destination || !context.destinationAddress)
    return refuse('topup_destination', 'a gas top-up names its destination, the deposit address it tops up ({ branch, index })');
  if (tx.data !== '0x') return refuse('topup_data', 'a gas top-up carries no data (data "0x")');
  if (value <= 0n) return refuse('topup_value', 'a gas top-up sends a value above 0');
  if (value > policy.gasTopupMaxWei)
    return refuse(
      'topup_cap',
      `a gas top-up of ${value} wei is above the ${policy.gasTopupMaxWei} wei one may send on ${where} (INFLOW_GAS_TOPUP_MAX_WEI_${suffix})`,
    );
  if (to !== context.destinationAddress)
    return refuse(
      'topup_to_destination',
      `a gas top-up may only pay its destination's address ${context.destinationAddress} (${request.destination.branch} ${request.destination.index}), not ${to}`,
    );
  return { allowed: true };
}

/**
 * A payout, once the rules every kind shares have held: from the hot wallet, the terms the API
 * authorised, carried out exactly as authorised.
 */
function decidePayout(request: SignRequest, context: PolicyContext, policy: SignerNetworkPolicy): Decision {
  const { mode, network, tx, payout } = request;
  const where = `${network} in ${mode} mode`;
  if (!context.payoutSecret)
    return refuse(
      'payouts_not_configured',
      'no payout is signed: INFLOW_PAYOUT_AUTHORIZATION_SECRET is unset, so no payout can be shown to be authorised by the API',
    );
  if (request.from.wallet !== 'hot')
    return refuse('payout_from', `a payout is sent from the hot wallet (from.wallet "hot"), not from the ${request.from.wallet} wallet`);
  if (!payout)
    return refuse('payout_details', 'a payout names its terms and their authorization (payout: { id, currency, amount, destination, authorization })');
  if (request.destination) return refuse('payout_details', 'a payout has no deposit destination: it pays payout.destination');
  const authorised = verifyPayoutAuthorization(
    context.payoutSecret,
    { payout_id: payout.id, mode, network, currency: payout.currency, amount: payout.amount, destination: payout.destination },
    payout.authorization,
  );
  if (!authorised)
    return refuse(
      'payout_authorization',
      `payout ${payout.id}'s authorization does not match its terms (${mode}, ${network}, ${payout.amount} base units of ${payout.currency} to ${payout.destination}): the API did not authorise this payout`,
    );
  const amount = BigInt(payout.amount);
  if (amount <= 0n) return refuse('payout_amount', 'a payout pays an amount above 0');
  const cap = policy.payoutCaps.get(payout.currency);
  if (cap !== undefined && amount > cap) {
    const decimals = currencyOn(network as Network, payout.currency)?.decimals ?? 0;
    return refuse(
      'payout_cap',
      `a payout of ${formatAmount(amount, decimals)} ${payout.currency} is above the ${formatAmount(cap, decimals)} one may pay on ${where} (INFLOW_SIGNER_MAX_PAYOUT_${network.toUpperCase()}_${payout.currency}_${mode.toUpperCase()})`,
    );
  }
  const destination = getAddress(payout.destination);
  const value = BigInt(tx.value);
  const to = getAddress(tx.to);
  if (payout.currency === networks[network].nativeCurrency) {
    if (tx.data !== '0x') return refuse('payout_data', `a payout of ${payout.currency} carries no data (data "0x")`);
    if (to !== destination) return refuse('payout_to_destination', `payout ${payout.id} may only pay its destination ${destination}, not ${to}`);
    if (value !== amount) return refuse('payout_amount', `payout ${payout.id} pays ${amount} base units of ${payout.currency}, not ${value}`);
    return { allowed: true };
  }
  const currency = policy.tokens.get(to.toLowerCase());
  if (currency !== payout.currency)
    return refuse(
      'token_contract',
      `${to} is not ${payout.currency}'s token contract on ${where} (the registry's or INFLOW_TOKEN_${network.toUpperCase()}_${payout.currency}_${mode.toUpperCase()})`,
    );
  if (value !== 0n) return refuse('token_value', 'a token payout sends no native value (value "0")');
  const transfer = decodeTransfer(tx.data);
  if (!transfer) return refuse('token_calldata', `a token payout's data must be exactly transfer(${destination}, ${amount}) ABI-encoded, and nothing else`);
  if (transfer.recipient !== destination)
    return refuse('payout_to_destination', `payout ${payout.id} may only pay its destination ${destination}, not ${transfer.recipient}`);
  if (transfer.amount !== amount) return refuse('payout_amount', `payout ${payout.id} pays ${amount} base units of ${payout.currency}, not ${transfer.amount}`);
  return { allowed: true, token: { contract: to, currency, ...transfer } };
}

/** transfer(recipient, amount) in its one canonical encoding (selector, two 32-byte words), else undefined. */
export function decodeTransfer(data: string): { recipient: string; amount: bigint } | undefined {
  const hex = data.toLowerCase();
  if (hex.length !== 2 + 8 + 64 + 64 || !hex.startsWith(TRANSFER_SELECTOR)) return undefined;
  const recipientWord = hex.slice(10, 74);
  if (!recipientWord.startsWith('0'.repeat(24))) return undefined;
  return { recipient: getAddress(`0x${recipientWord.slice(24)}`), amount: BigInt(`0x${hex.slice(74)}`) };
}

/** The data of transfer(recipient, amount): what a token sweep carries. */
export function encodeTransfer(recipient: string, amount: bigint): string {
  return `${TRANSFER_SELECTOR}${getAddress(recipient).slice(2).toLowerCase().padStart(64, '0')}${amount.toString(16).padStart(64, '0')}`;
}
