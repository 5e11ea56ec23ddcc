/**
 * An order's transitions as rows, each one database transaction under the order's row lock (the
 * same lock a payment to the order takes when it is detected, completes or is reversed), so a
 * payment and the expiry or a cancel can never both win: whichever commits first decides, and the
 * other sees it.
 */
import { inTransaction, type Executor } from '../db/database';
import { findCursor } from '../chains/chains.repository';
import { findObjectEventId } from '../events/events.repository';
import { depositsOfOrders, lockOrderById, updateOrder } from './orders.repository';
import type { Order } from './orders.table';
import { activityFailureTypes, missing, StepFailure } from '../domain/failures';
import { paidInTime, resettledStatus, settleOrder, type OrderVerdict, type SettledOrderStatus } from '../domain/order-state';
import { emit, emittedBefore } from '../events/emitter';
import { orderObject, orderPayments } from './order.presenter';

/**
 * Settles the order if its payments, or its expiry, say so; else leaves it pending. With
 * `waitForChain`, an expired order stays pending (`waitingForChain`) until its chain's watcher has
 * scanned a block made after the deadline: a payment made in time may be in a block not read yet.
 */
export async function evaluateOrder(db: Executor, orderId: string, expired: boolean, options: { waitForChain?: boolean } = {}): Promise<OrderVerdict> {
  return inTransaction(db, async (transaction) => {
    const order = await lockOrder(transaction, orderId);
    // Settled already: by an earlier attempt whose result was lost (its event is returned again, to
    // be delivered), by a cancel, or by a payment's transition.
    if (order.status !== 'pending')
      return { status: order.status, ...(await emittedBefore(transaction, await findObjectEventId(transaction, order, `order.${order.status}`))) };
    const deposits = await depositsOfOrders(transaction, [order.id]);
    const next = settleOrder({ amount: BigInt(order.amount), expired }, orderPayments(order, deposits));
    if (next === 'pending') return { status: next, eventId: null, deliveries: [] };
    if (next !== 'completed' && options.waitForChain && !(await chainReadPastDeadline(transaction, order))) {
      return { status: 'pending', eventId: null, deliveries: [], waitingForChain: true };
    }
    return settle(transaction, order, next);
  });
}

/**
 * A settled order after one of its payments completed or was reversed, in that transition's
 * transaction: its status follows its payments made in time (a payment that timed out and
 * completed later completes it; a reversal takes a completion away), with the event of its new
 * status. A pending order is left to its workflow (signalled by the payment's), a canceled one
 * stays canceled.
 */
export async function resettleOrder(transaction: Executor, orderId: string): Promise<void> {
  const order = await lockOrder(transaction, orderId);
  if (order.status === 'pending' || order.status === 'canceled') return;
  const next = resettledStatus({ amount: BigInt(order.amount) }, orderPayments(order, await depositsOfOrders(transaction, [order.id])).received);
  if (next === order.status) return;
  await settle(transaction, order, next);
}

/** Whether the order's chain has been read past its deadline (no watcher for that chain: nothing to wait for). */
async function chainReadPastDeadline(transaction: Executor, order: Order): Promise<boolean> {
  const cursor = await findCursor(transaction, order.livemode, order.network);
  if (!cursor) return true;
  return cursor.lastBlockTime !== null && !paidInTime(cursor.lastBlockTime, order.expires_at);
}

/** Cancels a pending order that nothing has been paid to; anything else is refused, finally. */
export async function cancelOrder(db: Executor, orderId: string): Promise<OrderVerdict> {
  return inTransaction(db, async (transaction) => {
    const order = await lockOrder(transaction, orderId);
    const refuse = (message: string) => new StepFailure(activityFailureTypes.orderNotCancelable, message);
    // Canceled by an earlier attempt of this activity whose result was lost: the same verdict again.
    if (order.status === 'canceled')
      return { status: order.status, ...(await emittedBefore(transaction, await findObjectEventId(transaction, order, 'order.canceled'))) };
    if (order.status !== 'pending') throw refuse(`The order is ${order.status}: only a pending order can be canceled.`);
    const deposits = await depositsOfOrders(transaction, [order.id]);
    if (deposits.some((deposit) => deposit.status !== 'failed')) throw refuse('A payment to the order has been detected: it can no longer be canceled.');
    return settle(transaction, order, 'canceled');
  });
}

/**
 * A payment detected on the order's address, in the transaction that records it: one made after
 * the deadline (by its block's time), or found once the order has settled, is still credited as a
 * deposit, and the order is marked `late`.
 */
export async function notePaymentToOrder(transaction: Executor, orderId: string, paidAt: Date): Promise<void> {
  const order = await lockOrder(transaction, orderId);
  if ((order.status !== 'pending' || !paidInTime(paidAt, order.expires_at)) && !order.late) await updateOrder(transaction, order.id, { late: true });
}

async function settle(transaction: Executor, order: Order, status: SettledOrderStatus): Promise<OrderVerdict> {
  const settled = await updateOrder(transaction, order.id, { status, completed_at: status === 'completed' ? new Date() : null });
  const [object] = await orderObject(transaction, [settled]);
  const { eventId, deliveries } = await emit(transaction, `order.${status}`, settled, object!);
  return { status, eventId, deliveries };
}

async function lockOrder(transaction: Executor, orderId: string): Promise<Order> {
  const order = await lockOrderById(transaction, orderId);
  if (!order) throw missing(activityFailureTypes.orderNotFound, 'order', orderId);
  return order;
}
