/** An order as the API, its `order.*` events and webhooks show it; what its payments add up to. */
import type { Executor } from '../db/database';
import { depositsOfOrders } from './orders.repository';
import type { Deposit } from '../deposits/deposits.table';
import type { Order } from './orders.table';
import { formatAmount } from '../domain/money';
import { paidInTime } from '../domain/order-state';
import type { OrderObject } from './orders.schema';

/** The payments that count towards the order: deposits of its asset on its network. */
export function countedDeposits(order: Order, deposits: Deposit[]): Deposit[] {
  return deposits.filter((deposit) => deposit.order_id === order.id && deposit.network === order.network && deposit.currency === order.currency);
}

/**
 * Completed payments made in time (a reversed one is failed again) in base units, and how many made
 * in time are still confirming: the ones that decide the order's status.
 */
export function orderPayments(order: Order, deposits: Deposit[]): { received: bigint; inFlight: number } {
  const counted = countedDeposits(order, deposits).filter((deposit) => paidInTime(paidAt(deposit), order.expires_at));
  return {
    received: sum(counted.filter((deposit) => deposit.status === 'completed').map((deposit) => deposit.amount)),
    inFlight: counted.filter((deposit) => deposit.status === 'detected' || deposit.status === 'confirming').length,
  };
}

/** The orders with their deposits, read in one query. */
export async function orderObject(db: Executor, orders: Order[]): Promise<OrderObject[]> {
  const deposits = await depositsOfOrders(
    db,
    orders.map((order) => order.id),
  );
  return orders.map((order) => present(order, deposits));
}

function present(order: Order, deposits: Deposit[]): OrderObject {
  const completed = countedDeposits(order, deposits).filter((deposit) => deposit.status === 'completed');
  const received = sum(completed.map((deposit) => deposit.amount));
  const asset = (units: bigint) => formatAmount(units, order.decimals);
  return {
    id: order.id,
    object: 'order',
    livemode: order.livemode,
    external_id: order.external_id,
    status: order.status,
    overpaid: order.status === 'completed' && received > BigInt(order.amount),
    late: order.late,
    customer_id: order.customer_id,
    network: order.network,
    currency: order.currency,
    address: order.address,
    amount: asset(BigInt(order.amount)),
    amount_received: asset(received),
    fiat_amount: order.fiat_amount === null ? null : formatAmount(BigInt(order.fiat_amount), 2),
    fiat_currency: order.fiat_currency,
    exchange_rate: order.exchange_rate,
    fee: asset(sum(completed.map((deposit) => deposit.fee))),
    net_amount: asset(sum(completed.map((deposit) => deposit.net_amount))),
    deposits: deposits.filter((deposit) => deposit.order_id === order.id).map((deposit) => deposit.id),
    expires_at: order.expires_at.toISOString(),
    callback_url: order.callback_url,
    callback_events: order.callback_events,
    payment_url: order.payment_url,
    success_url: order.success_url,
    cancel_url: order.cancel_url,
    metadata: order.metadata,
    created_at: order.created_at.toISOString(),
    updated_at: order.updated_at.toISOString(),
    completed_at: order.completed_at?.toISOString() ?? null,
  };
}

/** When a payment was made: its block's time on the chain; for a simulated one (or one recorded before block times were), when it was detected. */
export function paidAt(deposit: Deposit): Date {
  return deposit.block_time ?? deposit.created_at;
}

function sum(amounts: Array<string | null>): bigint {
  return amounts.reduce((total, amount) => total + BigInt(amount ?? 0), 0n);
}
