/**
 * The signer's Tron policy, as a pure function (docs/treasury.md, "The policy"). The request
 * carries the transaction the worker built through the node as `raw_data_hex`; the policy decodes
 * those bytes itself with the strict codec (src/chains/tron/transaction.ts) and judges what they
 * say, nothing else. A transaction is signed only if it is one of:
 *
 *   sweep              from a deposit address: a TransferContract of amount > 0 to the treasury; or a
 *                      TriggerSmartContract of a known TRC-20 contract, call_value 0, data exactly
 *                      transfer(treasury, amount > 0)
 *   gas_topup          from the gas wallet: a TransferContract of 0 < amount ≤ the cap to the address
 *                      derived for `destination` (a deposit address)
 *   energy_delegation  from the gas wallet: a DelegateResourceContract of ENERGY, 0 < balance ≤ the
 *                      cap, to the address derived for `destination`, no lock (or a lock no longer
 *                      than the configured bound)
 *   energy_reclaim     from the gas wallet: an UnDelegateResourceContract of ENERGY, 0 < balance ≤
 *                      the cap, from the address derived for `destination`
 *   payout             from the hot wallet: exactly the terms of `payout`, which the API authorised
 *                      (src/treasury/payout-authorization.ts): a TransferContract of amount = the
 *                      payout's to its destination (TRX); or a TriggerSmartContract of the currency's
 *                      token contract, call_value 0, data exactly transfer(destination, amount);
 *                      amount > 0 and within the cap, if any
 *
 * and, for all, Tron has a treasury in the mode, the bytes decode (one contract, a type the codec
 * knows, canonical), the contract's owner is the address derived for `from` (m/44'/195'/…), the
 * expiration is not too far ahead, and fee_limit is within the cap (0 for anything but a call).
 * Only a payout comes from the hot wallet or carries `payout`. Each refusal names the rule it
 * broke. (That a payout is signed as one transaction only is the server's rule, `payout_once`:
 * it needs what was signed before.)
 */
import { tronAddressFromAccountId } from '../chains/tron/address';
import { decodeRawData, TronTransactionError, type TronContract, type TronRawData } from '../chains/tron/transaction';
import { formatAmount } from '../domain/money';
import { currencyOn, networks } from '../domain/networks';
import { verifyPayoutAuthorization } from '../treasury/payout-authorization';
import type { TronSignRequest } from '../treasury/signer-protocol';
import type { SignerTronPolicy } from './config';
import { TRANSFER_SELECTOR, type TokenTransfer } from './policy';

export type TronDecision = { allowed: true; raw: TronRawData; token?: TokenTransfer } | { allowed: false; rule: string; message: string; raw?: TronRawData };

export interface TronPolicyContext {
  /** Tron's policy in the request's mode. */
  policy: SignerTronPolicy;
  /** Whether the request's mode has key material. */
  hasKeys: boolean;
  /** The Tron address (T…) derived for the request's `from`. */
  fromAddress?: string;
  /** gas_topup, energy_delegation, energy_reclaim: the Tron address derived for `destination`. */
  destinationAddress?: string;
  /** The signer's clock, epoch ms. */
  now: number;
  /** INFLOW_PAYOUT_AUTHORIZATION_SECRET: what a payout's authorization is checked with (unset: no payout is signed). */
  payoutSecret?: string | undefined;
}

const KIND_CONTRACTS: Record<TronSignRequest['kind'], Array<TronContract['type']>> = {
  sweep: ['TransferContract', 'TriggerSmartContract'],
  gas_topup: ['TransferContract'],
  energy_delegation: ['DelegateResourceContract'],
  energy_reclaim: ['UnDelegateResourceContract'],
  payout: ['TransferContract', 'TriggerSmartContract'],
};
const KIND_NAMES: Record<TronSignRequest['kind'], string> = {
  sweep: 'a sweep',
  gas_topup: 'a gas top-up',
  energy_delegation: 'an energy delegation',
  energy_reclaim: 'an energy reclaim',
  payout: 'a payout',
};

/** What `from` names, for a message: the gas wallet, the hot wallet or a deposit address. */
function fromName(from: TronSignRequest['from']): string {
  return from.wallet === 'deposit' ? `deposit address of ${from.branch} ${from.index}` : `${from.wallet} wallet`;
}

/** A 41… hex address as base58check (T…). */
export function tronBase58(hex: string): string {
  return tronAddressFromAccountId(Uint8Array.from(Buffer.from(hex.slice(2), 'hex')));
}

export function decideTron(request: TronSignRequest, context: TronPolicyContext): TronDecision {
  const { mode, kind } = request;
  const MODE = mode.toUpperCase();
  const where = `tron in ${mode} mode`;
  const { policy } = context;
  const refuse = (rule: string, message: string, raw?: TronRawData): TronDecision => ({ allowed: false, rule, message, ...(raw && { raw }) });
  if (!context.hasKeys || !context.fromAddress)
    return refuse('mode_without_keys', `${mode} mode has no key material (INFLOW_SIGNER_MNEMONIC_FILE_${MODE} is unset): nothing is signed in it`);
  if (!policy.treasury) return refuse('no_treasury', `no treasury is configured for ${where} (INFLOW_TREASURY_TRON_${MODE}): nothing is signed for it`);
  let raw: TronRawData;
  try {
    raw = decodeRawData(request.raw_data_hex);
  } catch (error) {
    if (!(error instanceof TronTransactionError)) throw error;
    return refuse('tron_raw_data', `raw_data_hex is not a transaction this signer reads: ${error.message}`);
  }
  const no = (rule: string, message: string) => refuse(rule, message, raw);
  const { contract } = raw;
  const owner = tronBase58(contract.owner_address);
  if (owner !== context.fromAddress) return no('tron_owner', `the transaction's owner ${owner} is not the ${fromName(request.from)} ${context.fromAddress}`);
  if (raw.expiration > context.now + policy.maxExpirationMs)
    return no(
      'tron_expiration',
      `the transaction expires at ${new Date(raw.expiration).toISOString()}, more than ${policy.maxExpirationMs / 1000} s from now (INFLOW_SIGNER_MAX_EXPIRATION_SECONDS_TRON_${MODE}): a signed transaction must not stay valid for long`,
    );
  if (contract.type !== 'TriggerSmartContract' && raw.fee_limit !== 0)
    return no('tron_fee_limit', `a ${contract.type} carries no fee_limit (only a contract call burns energy), not ${raw.fee_limit}`);
  if (BigInt(raw.fee_limit) > policy.maxFeeLimitSun)
    return no(
      'tron_fee_limit',
      `fee_limit ${raw.fee_limit} sun is above the ${policy.maxFeeLimitSun} sun one transaction may burn on ${where} (INFLOW_SIGNER_MAX_FEE_LIMIT_SUN_TRON_${MODE})`,
    );
  if (!KIND_CONTRACTS[kind].includes(contract.type))
    return no('tron_contract_type', `${KIND_NAMES[kind]} is a ${KIND_CONTRACTS[kind].join(' or a ')}, not a ${contract.type}`);
  const treasury = policy.treasury;

  if (kind === 'payout') return decideTronPayout(request, context, raw);

  if (kind === 'sweep') {
    if (request.from.wallet !== 'deposit')
      return no('sweep_from', `a sweep is sent from a deposit address (from.wallet "deposit"), not from the ${request.from.wallet} wallet`);
    if (request.destination) return no('sweep_destination', 'a sweep has no destination: it pays the treasury');
    if (request.payout) return no('payout_details', 'a sweep carries no payout: only a payout (kind "payout") does');
    if (contract.type === 'TransferContract') {
      if (contract.amount <= 0n) return no('sweep_value', 'a TRX sweep sends an amount above 0');
      const to = tronBase58(contract.to_address);
      if (to !== treasury) return no('sweep_to_treasury', `a TRX sweep may only pay ${where}'s treasury ${treasury}, not ${to}`);
      return { allowed: true, raw };
    }
    if (contract.type !== 'TriggerSmartContract') return no('tron_contract_type', `a sweep is not a ${contract.type}`);
    const tokenContract = tronBase58(contract.contract_address);
    const currency = policy.tokens.get(contract.contract_address);
    if (!currency) return no('token_contract', `${tokenContract} is not a token contract of ${where} (the registry's or INFLOW_TOKEN_TRON_<CURRENCY>_${MODE})`);
    if (contract.call_value !== 0n) return no('token_value', `a token sweep sends no TRX with its call (call_value 0), not ${contract.call_value}`);
    const transfer = decodeTronTransfer(contract.data);
    if (!transfer) return no('token_calldata', `a token sweep's data must be exactly transfer(${treasury}, amount) ABI-encoded, and nothing else`);
    if (transfer.recipient !== treasury)
      return no('sweep_to_treasury', `a token sweep may only pay ${where}'s treasury ${treasury}, not ${transfer.recipient}`);
    if (transfer.amount <= 0n) return no('token_amount', 'a token sweep transfers an amount above 0');
    return { allowed: true, raw, token: { contract: tokenContract, currency, ...transfer } };
  }

  // The gas wallet's kinds: to (or from) one deposit address, named as `destination`.
  const what = KIND_NAMES[kind];
  const prefix = kind === 'gas_topup' ? 'topup' : kind === 'energy_delegation' ? 'delegation' : 'reclaim';
  if (request.from.wallet !== 'gas')
    return no(`${prefix}_from`, `${what} is sent from the gas wallet (from.wallet "gas"), not from the ${fromName(request.from)}`);
  if (request.payout) return no('payout_details', `${what} carries no payout: only a payout (kind "payout") does`);
  if (!request.destination || !context.destinationAddress)
    return no(`${prefix}_destination`, `${what} names its destination, the deposit address it is for ({ branch, index })`);
  const destination = `its destination's address ${context.destinationAddress} (${request.destination.branch} ${request.destination.index})`;

  if (contract.type === 'TransferContract') {
    if (contract.amount <= 0n) return no('topup_value', 'a gas top-up sends an amount above 0');
    if (contract.amount > policy.gasTopupMaxSun)
      return no(
        'topup_cap',
        `a gas top-up of ${contract.amount} sun is above the ${policy.gasTopupMaxSun} sun one may send on ${where} (INFLOW_GAS_TOPUP_MAX_SUN_TRON_${MODE})`,
      );
    const to = tronBase58(contract.to_address);
    if (to !== context.destinationAddress) return no('topup_to_destination', `a gas top-up may only pay ${destination}, not ${to}`);
    return { allowed: true, raw };
  }
  if (contract.type !== 'DelegateResourceContract' && contract.type !== 'UnDelegateResourceContract')
    return no('tron_contract_type', `${what} is not a ${contract.type}`);
  if (contract.resource !== 'ENERGY') return no(`${prefix}_resource`, `${what} is of ENERGY, not ${contract.resource}`);
  if (contract.balance <= 0n) return no(`${prefix}_balance`, `${what} names a balance above 0`);
  if (contract.balance > policy.delegationMaxSun)
    return no(
      `${prefix}_cap`,
      `${what} of ${contract.balance} sun staked is above the ${policy.delegationMaxSun} sun one may name on ${where} (INFLOW_ENERGY_DELEGATION_MAX_SUN_TRON_${MODE})`,
    );
  const receiver = tronBase58(contract.receiver_address);
  if (receiver !== context.destinationAddress)
    return no(`${prefix}_to_destination`, `${what} may only be ${kind === 'energy_reclaim' ? 'taken back from' : 'made to'} ${destination}, not ${receiver}`);
  if (contract.type === 'DelegateResourceContract') {
    if (!contract.lock && contract.lock_period !== 0) return no('delegation_lock', `an unlocked delegation has no lock_period, not ${contract.lock_period}`);
    // lock with lock_period 0: java-tron locks for its default, 86,400 blocks (3 days).
    const lockBlocks = contract.lock ? contract.lock_period || 86_400 : 0;
    if (lockBlocks > policy.delegationMaxLockBlocks)
      return no(
        'delegation_lock',
        policy.delegationMaxLockBlocks === 0
          ? `an energy delegation is not locked on ${where} (INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON_${MODE} is 0): it is taken back after the sweep`
          : `an energy delegation locked for ${lockBlocks} blocks is above the ${policy.delegationMaxLockBlocks} blocks one may be locked on ${where} (INFLOW_ENERGY_DELEGATION_MAX_LOCK_BLOCKS_TRON_${MODE})`,
      );
  }
  return { allowed: true, raw };
}

/**
 * A payout, once the rules every kind shares have held (its owner is the address `from` names):
 * from the hot wallet, the terms the API authorised, carried out exactly as authorised.
 */
function decideTronPayout(request: TronSignRequest, context: TronPolicyContext, raw: TronRawData): TronDecision {
  const { mode, payout } = request;
  const MODE = mode.toUpperCase();
  const where = `tron in ${mode} mode`;
  const { policy } = context;
  const no = (rule: string, message: string): TronDecision => ({ allowed: false, rule, message, raw });
  if (!context.payoutSecret)
    return no(
      'payouts_not_configured',
      'no payout is signed: INFLOW_PAYOUT_AUTHORIZATION_SECRET is unset, so no payout can be shown to be authorised by the API',
    );
  if (request.from.wallet !== 'hot')
    return no('payout_from', `a payout is sent from the hot wallet (from.wallet "hot"), not from the ${fromName(request.from)}`);
  if (!payout) return no('payout_details', 'a payout names its terms and their authorization (payout: { id, currency, amount, destination, authorization })');
  if (request.destination) return no('payout_details', 'a payout has no deposit destination: it pays payout.destination');
  const authorised = verifyPayoutAuthorization(
    context.payoutSecret,
    { payout_id: payout.id, mode, network: 'tron', currency: payout.currency, amount: payout.amount, destination: payout.destination },
    payout.authorization,
  );
  if (!authorised)
    return no(
      'payout_authorization',
      `payout ${payout.id}'s authorization does not match its terms (${mode}, tron, ${payout.amount} base units of ${payout.currency} to ${payout.destination}): the API did not authorise this payout`,
    );
  const amount = BigInt(payout.amount);
  if (amount <= 0n) return no('payout_amount', 'a payout pays an amount above 0');
  const cap = policy.payoutCaps.get(payout.currency);
  if (cap !== undefined && amount > cap) {
    const decimals = currencyOn('tron', payout.currency)?.decimals ?? 0;
    return no(
      'payout_cap',
      `a payout of ${formatAmount(amount, decimals)} ${payout.currency} is above the ${formatAmount(cap, decimals)} one may pay on ${where} (INFLOW_SIGNER_MAX_PAYOUT_TRON_${payout.currency}_${MODE})`,
    );
  }
  const { destination } = payout;
  const { contract } = raw;
  if (payout.currency === networks.tron.nativeCurrency) {
    if (contract.type !== 'TransferContract')
      return no('tron_contract_type', `a payout of ${payout.currency} is a TransferContract to its destination, not a ${contract.type}`);
    const to = tronBase58(contract.to_address);
    if (to !== destination) return no('payout_to_destination', `payout ${payout.id} may only pay its destination ${destination}, not ${to}`);
    if (contract.amount !== amount) return no('payout_amount', `payout ${payout.id} pays ${amount} sun of ${payout.currency}, not ${contract.amount}`);
    return { allowed: true, raw };
  }
  if (contract.type !== 'TriggerSmartContract')
    return no('tron_contract_type', `a payout of ${payout.currency} is a TriggerSmartContract of its token contract, not a ${contract.type}`);
  const tokenContract = tronBase58(contract.contract_address);
  const currency = policy.tokens.get(contract.contract_address);
  if (currency !== payout.currency)
    return no(
      'token_contract',
      `${tokenContract} is not ${payout.currency}'s token contract on ${where} (the registry's or INFLOW_TOKEN_TRON_${payout.currency}_${MODE})`,
    );
  if (contract.call_value !== 0n) return no('token_value', `a token payout sends no TRX with its call (call_value 0), not ${contract.call_value}`);
  const transfer = decodeTronTransfer(contract.data);
  if (!transfer) return no('token_calldata', `a token payout's data must be exactly transfer(${destination}, ${amount}) ABI-encoded, and nothing else`);
  if (transfer.recipient !== destination)
    return no('payout_to_destination', `payout ${payout.id} may only pay its destination ${destination}, not ${transfer.recipient}`);
  if (transfer.amount !== amount) return no('payout_amount', `payout ${payout.id} pays ${amount} base units of ${payout.currency}, not ${transfer.amount}`);
  return { allowed: true, raw, token: { contract: tokenContract, currency, ...transfer } };
}

/** transfer(recipient, amount) in its one canonical ABI encoding (data hex without 0x), the recipient as T…; else undefined. */
export function decodeTronTransfer(data: string): { recipient: string; amount: bigint } | undefined {
  const hex = data.toLowerCase();
  if (hex.length !== 8 + 64 + 64 || !hex.startsWith(TRANSFER_SELECTOR.slice(2))) return undefined;
  const recipientWord = hex.slice(8, 72);
  // The address word is the 20-byte account id, zero-padded: no 41 prefix, no dirty high bytes.
  if (!recipientWord.startsWith('0'.repeat(24))) return undefined;
  return { recipient: tronAddressFromAccountId(Uint8Array.from(Buffer.from(recipientWord.slice(24), 'hex'))), amount: BigInt(`0x${hex.slice(72)}`) };
}
