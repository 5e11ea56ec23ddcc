/**
 * What the payment page tells a payer about an order, from the order and its payments alone: the
 * order's own status, sharpened for someone watching (a pending order is awaiting its payment,
 * confirming one, or partly paid; one whose time is up says so before its workflow has settled it).
 * Pure; the page renders it and its live stream sends it.
 */
import { formatAmount } from '../domain/money';
import { paidInTime, type OrderStatus } from '../domain/order-state';
import type { Deposit } from '../deposits/deposits.table';
import type { Order } from '../orders/orders.table';
import { countedDeposits, paidAt } from '../orders/order.presenter';

export const pageStatuses = ['awaiting_payment', 'confirming', 'partially_paid', 'completed', 'expired', 'underpaid', 'canceled'] as const;
export type PageStatus = (typeof pageStatuses)[number];

export interface PaymentState {
  status: PageStatus;
  orderStatus: OrderStatus;
  /** In the order's asset, at its full precision. */
  amount: string;
  /** Completed payments made in time. */
  received: string;
  /** What is still to pay: the amount less what was received and what is confirming (never below zero). */
  remaining: string;
  /** The payment still confirming that is furthest from done: how many confirmations it has, and needs. */
  confirmations: number | null;
  requiredConfirmations: number | null;
  expiresAt: string;
  /** A payment came after the order settled: credited to the merchant, who is told. */
  late: boolean;
  overpaid: boolean;
  /** Money sent to the address in another asset: it does not count towards this order. */
  otherAssets: Array<{ currency: string; amount: string }>;
}

/** Terminal for the page: nothing the payer does changes it (a reorg could, and a reload shows it). */
export function isFinal(status: PageStatus): boolean {
  return status === 'completed' || status === 'expired' || status === 'underpaid' || status === 'canceled';
}

export function paymentState(order: Order, deposits: Deposit[], now: Date): PaymentState {
  const counted = countedDeposits(order, deposits).filter((deposit) => paidInTime(paidAt(deposit), order.expires_at));
  const completed = counted.filter((deposit) => deposit.status === 'completed');
  const confirming = counted.filter((deposit) => deposit.status === 'detected' || deposit.status === 'confirming');
  const amount = BigInt(order.amount);
  const received = sum(completed);
  const inFlight = sum(confirming);
  const remaining = amount - received - inFlight > 0n ? amount - received - inFlight : 0n;
  const furthest = [...confirming].sort((a, b) => a.confirmations / a.required_confirmations - b.confirmations / b.required_confirmations)[0];
  const asset = (units: bigint) => formatAmount(units, order.decimals);
  return {
    status: pageStatus(order, { received, confirming: confirming.length > 0, timeUp: now.getTime() > order.expires_at.getTime() }),
    orderStatus: order.status,
    amount: asset(amount),
    received: asset(received),
    remaining: asset(remaining),
    confirmations: furthest ? Math.min(furthest.confirmations, furthest.required_confirmations) : null,
    requiredConfirmations: furthest ? furthest.required_confirmations : null,
    expiresAt: order.expires_at.toISOString(),
    late: order.late,
    overpaid: order.status === 'completed' && received > amount,
    otherAssets: deposits
      .filter((deposit) => deposit.order_id === order.id && (deposit.network !== order.network || deposit.currency !== order.currency))
      .filter((deposit) => deposit.status !== 'failed')
      .map((deposit) => ({ currency: deposit.currency, amount: formatAmount(BigInt(deposit.amount), deposit.decimals) })),
  };
}

function pageStatus(order: Order, payments: { received: bigint; confirming: boolean; timeUp: boolean }): PageStatus {
  if (order.status !== 'pending') return order.status;
  if (payments.confirming) return 'confirming';
  // Past its deadline with nothing on its way: the order's workflow settles it once the chain has
  // been read past the deadline, and a payment sent now would not count.
  if (payments.timeUp) return payments.received > 0n ? 'underpaid' : 'expired';
  return payments.received > 0n ? 'partially_paid' : 'awaiting_payment';
}

function sum(deposits: Deposit[]): bigint {
  return deposits.reduce((total, deposit) => total + BigInt(deposit.amount), 0n);
}
