/**
 * An order's life: pending until it is paid in full (completed), its expiry passes (expired with
 * nothing received, underpaid with some), or the merchant cancels it. Payments detected before the
 * expiry are waited for; a payment detected after the order settled is credited as a deposit all
 * the same and marks the order `late`. Pure: the order workflow drives it, activities persist it.
 */
export const orderStatuses = ['pending', 'completed', 'expired', 'underpaid', 'canceled'] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export type SettledOrderStatus = Exclude<OrderStatus, 'pending'>;

/** The statuses whose callback a merchant may ask for; `completed` is always sent. */
export const callbackStatuses = ['completed', 'expired', 'underpaid'] as const satisfies readonly SettledOrderStatus[];

/**
 * An order settles this long after its `expires_at`: a payment made in its last seconds reaches a
 * block, and the chain watcher's next poll, a little later (a block time plus a poll interval), and
 * still counts. A payment detected after that is late.
 */
export const PAYMENT_GRACE_MS = 60_000;

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
