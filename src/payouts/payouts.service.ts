/**
 * Payouts and refunds as the API makes them (docs/payouts.md): the checks at the edge, the hold
 * under the merchant's ledger lock, the row with the API's authorisation of its exact terms, its
 * `payout.created` event and its queued workflow, all in the request's one transaction; and the
 * cancel of a payout nothing of which was signed. Sending is the worker's (treasury/payout-sending.ts).
 */
import { getAddress, isAddress } from 'ethers';
import type { PayoutSettings } from '../config';
import type { Executor, Tenant } from '../db/database';
import { availableBalance, lockMerchantLedger } from '../balance/ledger.repository';
import { isTronAddress, tronAddressToHex } from '../chains/tron/address';
import { findDeposit } from '../deposits/deposits.repository';
import type { Deposit } from '../deposits/deposits.table';
import { InvalidRequestError, PermissionError, ResourceExistsError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
import { unitsInUsdCents, usdCentsInUnits } from '../domain/fees';
import { newId } from '../domain/ids';
import { modeOf } from '../domain/mode';
import { AmountFormatError, formatAmount, formatUsdCents, parseAmount } from '../domain/money';
import { currenciesOf, currencyOn, networks, type Network } from '../domain/networks';
import { emit } from '../events/emitter';
import { queuePayoutWorkflow } from '../outbox/queue';
import { PriceUnavailableError, type PriceSource } from '../prices/price-source';
import { payoutAuthorization } from '../treasury/payout-authorization';
import { payoutWorkflowId } from '../workflows/definitions';
import { payoutObject } from './payout.presenter';
import {
  cancelPayoutIfCancelable,
  findPayout,
  findPayoutByExternalId,
  insertPayout,
  paidOutUsdCentsSince,
  refundedOrHeld,
  transitionPayout,
} from './payouts.repository';
import type { PayoutObject } from './payouts.schema';
import type { Payout } from './payouts.table';

export interface NewPayoutInput {
  network: Network;
  currency: string;
  amount: string;
  destination: string;
  external_id?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

/** What a payout needs from outside the transaction: the operator's settings checked, and the fee priced. */
export interface PreparedPayout {
  decimals: number;
  /** Absent for a refund of all that is left of its deposit, which is read under the ledger lock. */
  amount: bigint | undefined;
  fee: bigint;
  destination: string;
  secret: string;
  /** The currency's USD price now: the fee's, the daily limit's and the approval threshold's. */
  priceUsd: string;
  settings: PayoutSettings;
}

/**
 * The checks of a payout that need no lock, and its fee at the USD price now (a price feed is read
 * before the transaction opens, so it never holds a pooled connection): payouts enabled for the
 * mode, the network and currency, the amount's precision, the destination's form.
 */
export async function preparePayout(
  tenant: Tenant,
  input: Pick<NewPayoutInput, 'network' | 'currency' | 'destination'> & { amount: string | undefined },
  deps: { settings: PayoutSettings | undefined; prices: PriceSource },
): Promise<PreparedPayout> {
  const { settings } = deps;
  if (!settings?.authorizationSecret)
    throw new PermissionError(
      'Payouts are not enabled on this server: its operator has not set INFLOW_PAYOUT_AUTHORIZATION_SECRET (docs/payouts.md).',
      undefined,
      'payouts_disabled',
    );
  if (tenant.livemode && !settings.liveEnabled)
    throw new PermissionError(
      'Live payouts are off on this server until its operator enables them (INFLOW_PAYOUTS_LIVE=enabled); test payouts work with a test key.',
      undefined,
      'payouts_disabled',
    );
  const asset = currencyOn(input.network, input.currency);
  if (!asset)
    throw new InvalidRequestError(
      `${input.currency} is not supported on ${input.network}; choose one of ${currenciesOf(input.network).join(', ')}.`,
      'currency',
    );
  let amount: bigint | undefined;
  try {
    amount = input.amount === undefined ? undefined : parseAmount(input.amount, asset.decimals);
  } catch (error) {
    // A refund's currency is its deposit's: its precision is known only then.
    if (error instanceof AmountFormatError) throw new InvalidRequestError(`amount ${error.message}`, 'amount', 'amount_invalid');
    throw error;
  }
  const destination = checkDestination(input.network, input.destination);
  let price: string;
  try {
    price = await deps.prices.priceUsd(input.network, input.currency);
  } catch (error) {
    if (error instanceof PriceUnavailableError)
      throw new ServiceUnavailableError(`The ${input.currency} price is unavailable, so the payout's fee cannot be set now; nothing was written. Retry later.`);
    throw error;
  }
  const fee = usdCentsInUnits(settings.feeUsdCents[input.network], asset.decimals, price);
  return { decimals: asset.decimals, amount, fee, destination, secret: settings.authorizationSecret, priceUsd: price, settings };
}

/** The destination as the network writes it, or a 400 naming `destination` and what would be right. */
function checkDestination(network: Network, destination: string): string {
  if (networks[network].family === 'tron') {
    if (!isTronAddress(destination))
      throw new InvalidRequestError(`destination must be a Tron address (base58check, T…); '${destination}' is not one.`, 'destination', 'destination_invalid');
    if (/^41(00){20}$/.test(tronAddressToHex(destination)!))
      throw new InvalidRequestError('destination is the zero address: anything sent there is burned.', 'destination', 'destination_invalid');
    return destination;
  }
  if (!isAddress(destination))
    throw new InvalidRequestError(
      `destination must be an EVM address (0x and 40 hex digits, EIP-55 checksummed); '${destination}' is not one.`,
      'destination',
      'destination_invalid',
    );
  const checksummed = getAddress(destination);
  if (checksummed !== destination)
    throw new InvalidRequestError(
      `destination must be written in its EIP-55 checksummed form, which guards against a mistyped address: check that '${checksummed}' is the address you mean, and send that.`,
      'destination',
      'destination_invalid',
    );
  if (BigInt(checksummed) === 0n)
    throw new InvalidRequestError('destination is the zero address: anything sent there is burned.', 'destination', 'destination_invalid');
  return checksummed;
}

/**
 * Holds the amount and the fee out of the available balance under the merchant's ledger lock, and
 * records the payout, its `payout.created` event and its workflow's start, in the caller's
 * transaction: a 400 `balance_insufficient` (or any other refusal) writes nothing.
 */
export async function createPayout(
  transaction: Executor,
  caller: Tenant & { apiKeyId: string },
  input: Omit<NewPayoutInput, 'amount'> & { deposit_id?: string },
  prepared: PreparedPayout & { amount: bigint },
): Promise<PayoutObject> {
  const tenant = caller;
  if (input.external_id !== undefined) {
    const existing = await findPayoutByExternalId(transaction, tenant, input.external_id);
    if (existing)
      throw new ResourceExistsError(
        `A payout with external_id '${input.external_id}' already exists: ${existing.id}. Each payout's external_id must be unique.`,
        'external_id',
      );
  }
  await lockMerchantLedger(transaction, tenant);
  const available = await availableBalance(transaction, tenant, input.network, input.currency);
  const needed = prepared.amount + prepared.fee;
  if (available < needed) {
    const show = (units: bigint) => `${formatAmount(units, prepared.decimals)} ${input.currency}`;
    throw new InvalidRequestError(
      `The available ${input.currency} balance on ${input.network} is ${show(available < 0n ? 0n : available)}; this payout needs ${show(needed)} (${show(prepared.amount)} and a fee of ${show(prepared.fee)}).`,
      'amount',
      'balance_insufficient',
    );
  }
  const usdCents = unitsInUsdCents(prepared.amount, prepared.decimals, prepared.priceUsd);
  await checkDailyLimit(transaction, tenant, usdCents, prepared.settings);
  const approvalAbove = prepared.settings.approvalAboveUsdCents;
  const id = newId('payout');
  const payout = await insertPayout(transaction, {
    id,
    merchant_id: tenant.merchantId,
    livemode: tenant.livemode,
    network: input.network,
    currency: input.currency,
    decimals: prepared.decimals,
    amount: prepared.amount,
    fee: prepared.fee,
    fee_basis: prepared.settings.feeBasis?.[input.network] ?? 'fixed',
    destination: prepared.destination,
    external_id: input.external_id ?? null,
    metadata: JSON.stringify(input.metadata ?? {}),
    deposit_id: input.deposit_id ?? null,
    amount_usd_cents: usdCents,
    created_by_key_id: caller.apiKeyId,
    status: approvalAbove !== undefined && usdCents > approvalAbove ? 'requires_approval' : 'pending',
    authorization: payoutAuthorization(prepared.secret, {
      payout_id: id,
      mode: modeOf(tenant.livemode),
      network: input.network,
      currency: input.currency,
      amount: prepared.amount.toString(),
      destination: prepared.destination,
    }),
    workflow_id: payoutWorkflowId({ livemode: tenant.livemode, payoutId: id }),
  });
  const object = payoutObject(payout);
  await emit(transaction, 'payout.created', payout, object);
  await queuePayoutWorkflow(transaction, {
    payoutId: id,
    livemode: tenant.livemode,
    merchantId: tenant.merchantId,
    network: input.network,
    currency: input.currency,
    status: payout.status === 'requires_approval' ? 'requires_approval' : 'pending',
  });
  return object;
}

/**
 * A refund is a payout of the deposit's currency on its network, linked to it: at most what the
 * deposit netted less what its other refunds hold or took (read under the ledger lock, so two
 * refunds at once cannot both take the same part). `prepared` is preparePayout's for the deposit's
 * network and currency, before the transaction.
 */
export async function createRefund(
  transaction: Executor,
  tenant: Tenant & { apiKeyId: string },
  deposit: Deposit,
  input: { metadata?: Record<string, string> | undefined },
  prepared: PreparedPayout,
): Promise<PayoutObject> {
  await lockMerchantLedger(transaction, tenant);
  // Read again under the lock: a reorg may have reversed it since the route first read it.
  const current = (await findDeposit(transaction, tenant, deposit.id)) ?? deposit;
  if (current.status !== 'completed' || current.net_amount === null)
    throw new InvalidRequestError(`The deposit is ${current.status}: only a completed deposit can be refunded.`, undefined, 'deposit_not_refundable');
  const refundable = BigInt(current.net_amount) - (await refundedOrHeld(transaction, deposit.id));
  const amount = prepared.amount ?? refundable;
  if (amount <= 0n || amount > refundable)
    throw new InvalidRequestError(
      `At most ${formatAmount(refundable > 0n ? refundable : 0n, deposit.decimals)} ${deposit.currency} of this deposit can still be refunded (its net less earlier refunds).`,
      'amount',
      'refund_exceeds_deposit',
    );
  return createPayout(
    transaction,
    tenant,
    { network: deposit.network as Network, currency: deposit.currency, destination: prepared.destination, metadata: input.metadata, deposit_id: deposit.id },
    { ...prepared, amount },
  );
}

/**
 * Cancels a payout nothing of which was signed, with its `payout.canceled` event, in the caller's
 * transaction. A canceled payout answers as it is (a retried cancel whose answer was lost).
 */
export async function cancelPayout(transaction: Executor, tenant: Tenant, id: string): Promise<PayoutObject> {
  const payout = await findPayout(transaction, tenant, id);
  if (!payout) throw new ResourceMissingError(`No such payout: '${id}'`, 'id');
  if (payout.status === 'canceled') return payoutObject(payout);
  const canceled = await cancelPayoutIfCancelable(transaction, payout.id);
  if (!canceled) throw notCancelable(payout);
  const object = payoutObject(canceled);
  await emit(transaction, 'payout.canceled', canceled, object);
  return object;
}

/**
 * What the merchant's payouts of the last 24 hours were worth (those not failed or canceled), this one
 * added, against the mode's daily limit: read under the ledger lock with the balance.
 */
async function checkDailyLimit(transaction: Executor, tenant: Tenant, usdCents: bigint, settings: PayoutSettings): Promise<void> {
  const mode = modeOf(tenant.livemode);
  // The merchant's own limit, where the operator set one, over the operator's for every merchant.
  const own = await transaction
    .selectFrom('merchants')
    .select(mode === 'live' ? 'payout_daily_limit_usd_cents_live as limit' : 'payout_daily_limit_usd_cents_test as limit')
    .where('id', '=', tenant.merchantId)
    .executeTakeFirst();
  const limit = own?.limit != null ? BigInt(own.limit) : settings.dailyLimitUsdCents?.[mode];
  if (limit === undefined) return;
  const used = await paidOutUsdCentsSince(transaction, tenant, new Date(Date.now() - 24 * 3600_000));
  if (used + usdCents > limit)
    throw new InvalidRequestError(
      `This payout (USD ${formatUsdCents(usdCents)}) would take the last 24 hours' payouts past ${own?.limit != null ? "this account's" : 'the'} daily limit of USD ${formatUsdCents(limit)} (USD ${formatUsdCents(used)} used): try a smaller amount or later, or ask the operator to raise it.`,
      'amount',
      'payout_limit_exceeded',
    );
}

/**
 * Approves a payout that needs approval (worth more than INFLOW_PAYOUT_APPROVAL_ABOVE_USD): by a key
 * other than the one that made it, so one leaked or misused key cannot both make and release a large
 * payout. Its workflow then sends it. An approved payout answers as it is.
 */
export async function approvePayout(transaction: Executor, caller: Tenant & { apiKeyId: string }, id: string): Promise<PayoutObject> {
  const payout = await findPayout(transaction, caller, id);
  if (!payout) throw new ResourceMissingError(`No such payout: '${id}'`, 'id');
  if (payout.approved_by_key_id !== null) return payoutObject(payout);
  if (payout.status !== 'requires_approval')
    throw new InvalidRequestError(
      `The payout is ${payout.status}: only one that requires approval can be approved.`,
      undefined,
      'payout_not_awaiting_approval',
    );
  if (payout.created_by_key_id === caller.apiKeyId)
    throw new PermissionError(
      'A payout is approved by another key than the one that made it: approve it with a second key that has write on payout_approvals.',
      undefined,
      'payout_approval_same_key',
    );
  const approved = await transitionPayout(transaction, payout.id, ['requires_approval'], 'pending', {
    approved_by_key_id: caller.apiKeyId,
    approved_at: new Date(),
  });
  if (!approved) throw new InvalidRequestError('The payout was canceled or changed while being approved.', undefined, 'payout_not_awaiting_approval');
  const object = payoutObject(approved);
  await emit(transaction, 'payout.approved', approved, object);
  return object;
}

function notCancelable(payout: Payout): InvalidRequestError {
  return new InvalidRequestError(
    `The payout is ${payout.status}: only a payout that requires approval, is pending or is queued (nothing signed yet) can be canceled.`,
    undefined,
    'payout_not_cancelable',
  );
}
