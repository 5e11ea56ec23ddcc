/**
 * The CryptoPayments deposit-order callback, byte for byte as its documentation shows it
 * (../shared/seeds/002_…): compact JSON with exactly its keys in its order, timestamps as
 * `2025-06-16T09:16:23+00:00`, amounts as `{amount, currency}` with the asset's decimals (fiat
 * with 2), and the `api-notification-sign` header holding the hex HMAC-SHA256 of the raw body
 * keyed with the merchant's API key of that mode. Merchants switching from CryptoPayments keep
 * their verification code unchanged.
 */
import type { Deposit } from '../deposits/deposits.table';
import type { Order } from './orders.table';
import { assetToFiat, FIAT_DECIMALS } from '../domain/exchange';
import { formatAmount } from '../domain/money';
import { hexSignature } from '../domain/signatures';
import { countedDeposits } from './order.presenter';

export const CALLBACK_SIGNATURE_HEADER = 'api-notification-sign';

/** An amount in base units of `currency`, which has `decimals` places (2 for fiat). */
export interface CallbackMoney {
  units: bigint;
  decimals: number;
  currency: string;
}

export interface CallbackAmounts {
  primary: CallbackMoney;
  secondary: CallbackMoney;
  serviceFee: CallbackMoney;
  total: CallbackMoney;
}

export interface CallbackTransaction extends CallbackAmounts {
  id: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  receiverAddress: string;
  hash: string;
}

export interface CallbackOrder extends CallbackAmounts {
  id: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  transactions: CallbackTransaction[];
  externalId: string;
}

/** The raw body: what is signed, sent and verified. */
export function callbackBody(order: CallbackOrder): string {
  return JSON.stringify({
    id: order.id,
    status: order.status,
    createdAt: timestamp(order.createdAt),
    updatedAt: timestamp(order.updatedAt),
    transactions: order.transactions.map((transaction) => ({
      id: transaction.id,
      status: transaction.status,
      createdAt: timestamp(transaction.createdAt),
      updatedAt: timestamp(transaction.updatedAt),
      receiverAddress: transaction.receiverAddress,
      hash: transaction.hash,
      ...amounts(transaction),
    })),
    ...amounts(order),
    externalId: order.externalId,
  });
}

/**
 * The callback of an order as it stands: its completed payments as the transactions, each with its
 * fee and net; fiat as the order's locked rate gives it or, for an order made in the asset, the USD
 * value each payment was booked at.
 */
export function orderCallback(order: Order, deposits: Deposit[]): CallbackOrder {
  const asset = (units: bigint) => ({ units, decimals: order.decimals, currency: order.currency });
  const fiatOf = (deposit: Deposit) =>
    order.exchange_rate && order.fiat_currency
      ? { units: assetToFiat(BigInt(deposit.amount), order.exchange_rate, order.decimals), decimals: FIAT_DECIMALS, currency: order.fiat_currency }
      : { units: BigInt(deposit.amount_usd_cents ?? 0), decimals: FIAT_DECIMALS, currency: 'USD' };
  const transactions: CallbackTransaction[] = countedDeposits(order, deposits)
    .filter((deposit) => deposit.status === 'completed')
    .map((deposit) => ({
      id: deposit.id,
      status: deposit.status,
      createdAt: deposit.created_at,
      updatedAt: deposit.updated_at,
      receiverAddress: deposit.address,
      hash: deposit.transaction_hash,
      primary: asset(BigInt(deposit.amount)),
      secondary: fiatOf(deposit),
      serviceFee: asset(BigInt(deposit.fee ?? 0)),
      total: asset(BigInt(deposit.net_amount ?? 0)),
    }));
  const total = (pick: (transaction: CallbackTransaction) => CallbackMoney, empty: CallbackMoney): CallbackMoney =>
    transactions.map(pick).reduce((sum, money) => ({ ...money, units: sum.units + money.units }), empty);
  const noFiat = { units: 0n, decimals: FIAT_DECIMALS, currency: order.fiat_currency ?? 'USD' };
  return {
    id: order.id,
    status: order.status,
    createdAt: order.created_at,
    updatedAt: order.updated_at,
    transactions,
    primary: total((transaction) => transaction.primary, asset(0n)),
    secondary: total((transaction) => transaction.secondary, noFiat),
    serviceFee: total((transaction) => transaction.serviceFee, asset(0n)),
    total: total((transaction) => transaction.total, asset(0n)),
    externalId: order.external_id,
  };
}

export function callbackSignature(rawBody: string, apiKey: string): string {
  return hexSignature(rawBody, apiKey);
}

function amounts(of: CallbackAmounts) {
  return { primaryAmount: money(of.primary), secondaryAmount: money(of.secondary), serviceFeeAmount: money(of.serviceFee), totalAmount: money(of.total) };
}

function money(value: CallbackMoney) {
  return { amount: formatAmount(value.units, value.decimals), currency: value.currency };
}

/** Seconds precision with an explicit UTC offset, as the seed's timestamps are written. */
function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}
