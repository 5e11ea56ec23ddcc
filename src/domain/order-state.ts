/**
 * An order's life: pending until it is paid in full (completed), its expiry passes (expired with
 * nothing received, underpaid with some), or the merchant cancels it. Time is the chain's: a
 * payment counts when its block was made by the deadline (the expiry plus a grace), however late a
 * watcher found it, and an order settles as expired only once its chain has been read past the
 * deadline. A payment whose block is past the deadline is credited as a deposit all the same and
 * marks the order `late`. A settled order follows its payments: one completed late (after a
 * timeout) can complete it, one reversed by a reorg can take its completion away. Pure: the order
 * workflow and the deposits' transitions drive it, activities persist it.
 */
import type { EmittedEvent } from './events';
export const orderStatuses = ['pending', 'completed', 'expired', 'underpaid', 'canceled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export type SettledOrderStatus = Exclude<OrderStatus, 'pending'>;

/** The statuses whose callback a merchant may ask for; `completed` is always sent. */
export const callbackStatuses = ['completed', 'expired', 'underpaid'] as const satisfies readonly SettledOrderStatus[];

/**
 * A payment sent in an order's last seconds reaches a block a little after `expires_at`: a block
 * made up to this long after it still counts. The deadline is on the chain's clock.
 */
export const PAYMENT_GRACE_MS = 60_000;

/** Whether a payment made at `paidAt` (its block's time; detection time for a simulated one) counts towards an order. */
export function paidInTime(paidAt: Date, expiresAt: Date): boolean {
  return paidAt.getTime() <= expiresAt.getTime() + PAYMENT_GRACE_MS;
}

export const MIN_EXPIRES_IN_SECONDS = 60;
export const MAX_EXPIRES_IN_SECONDS = 7 * 24 * 60 * 60;
export const DEFAULT_EXPIRES_IN_SECONDS = 15 * 60;

/**
 * What the order's payments mean for it now. `received` counts completed payments in the order's
 * asset; `inFlight` those detected but not yet confirmed, which an expired order waits for.
 */
export function settleOrder(order: { amount: bigint; expired: boolean }, payments: { received: bigint; inFlight: number }): OrderStatus {
  if (payments.received >= order.amount) return 'completed';
  if (!order.expired || payments.inFlight > 0) return 'pending';
  return payments.received > 0n ? 'underpaid' : 'expired';
}

/** What a settled order's completed payments make it now (payments still confirming do not reopen it). */
export function resettledStatus(order: { amount: bigint }, received: bigint): SettledOrderStatus {
  if (received >= order.amount) return 'completed';
  return received > 0n ? 'underpaid' : 'expired';
}

/** An order transition's result: the order's status now, and the event it emitted, if any. */
export interface OrderVerdict extends EmittedEvent {
  status: OrderStatus;
  /** Past its deadline, but its chain's watcher has not yet scanned a block made after it: a payment may still be found. */
  waitingForChain?: boolean;
}
