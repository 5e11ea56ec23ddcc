/**
 * One deposit order (CryptoPayments' deposit order, BTCPay's invoice), id `order:{mode}:{ord_id}`.
 * Each payment to the order's address runs its own deposit workflow (its own fee and booking) and
 * signals this one when it moves; the order then asks the database what its payments add up to, so
 * the order row, locked by every transition that touches it, is the one arbiter between a payment
 * and the expiry. The expiry is a durable timer (expires_at plus PAYMENT_GRACE_MS): a payment
 * detected before it is waited for; one detected after the order settled is credited all the same
 * and marks the order `late`. Time is the chain's: payments count by their block's time, and an
 * expired order settles only once its chain's watcher has read past the deadline.
 * Cancel is an Update whose verdict the API returns: a settled order, or one with a payment, refuses.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { PAYMENT_GRACE_MS, type OrderStatus } from '../domain/order-state';
import {
  activityFailureTypes,
  cancelOrderUpdate,
  orderPaymentSignal,
  orderStateQuery,
  searchAttributes,
  type Activities,
  type OrderState,
  type OrderVerdict,
  type OrderWorkflowInput,
} from './definitions';
import { orderDetails, orderSearchAttributes } from './metadata';
import { activityRetry, patches } from './versions';
import { startDeliveries } from './webhook-delivery.workflow';

const activities = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { ...activityRetry, nonRetryableErrorTypes: [activityFailureTypes.orderNotCancelable] },
});

/**
 * How often an order past its deadline asks again whether its chain has been read past it: every
 * 15 s at first, doubling to every 10 minutes, so a watcher down for days costs the order's
 * history a few events an hour.
 */
const FIRST_CHAIN_WAIT_MS = 15_000;
const LONGEST_CHAIN_WAIT_MS = 10 * 60_000;

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  const followsTheChain = patched(patches.orderFollowsTheChain);
  const state: OrderState = { orderId: input.orderId, status: 'pending' };
  let payments = 0;
  let canceled: OrderVerdict | undefined;
  setHandler(orderPaymentSignal, () => void payments++);
  setHandler(orderStateQuery, () => state);
  setHandler(
    cancelOrderUpdate,
    async () => {
      // The database decides under the order's lock: a payment may have arrived a moment ago.
      canceled = await activities.cancelOrder({ orderId: input.orderId });
      setStatus(state, canceled.status);
      return state;
    },
    {
      validator: () => {
        if (state.status !== 'pending') {
          throw ApplicationFailure.create({
            type: activityFailureTypes.orderNotCancelable,
            message: `The order is ${state.status}: only a pending order can be canceled.`,
          });
        }
      },
    },
  );

  // A start through client.ts sets these already; this covers any other.
  upsertSearchAttributes(orderSearchAttributes(input, state.status));
  // The settlement timer: the expiry, plus the grace in which a payment made just before it may still be seen.
  const settlesAt = input.expiresAt + PAYMENT_GRACE_MS;
  setCurrentDetails(orderDetails(input, state.status, { settlesAt }));
  await startDeliveries({ eventId: input.createdEventId, ...(input.createdDeliveries ? { deliveries: input.createdDeliveries } : {}) });

  let expired = false;
  let waitingForChain = false;
  let chainWaitMs = FIRST_CHAIN_WAIT_MS;
  let seen = 0;
  if (followsTheChain) {
    // Paid in full before this workflow ran (Temporal was down when the order was made, say): settled now.
    const verdict = await activities.evaluateOrder({ orderId: input.orderId, expired: false });
    setStatus(state, verdict.status);
    await startDeliveries(verdict);
  }
  while (state.status === 'pending' && !canceled) {
    const untilExpiry = settlesAt - Date.now();
    if (waitingForChain) {
      // Past the deadline, but the chain has not been read past it: a payment made in time may yet be found.
      setCurrentDetails(orderDetails(input, state.status, { waitingForChain }));
      await condition(() => payments > seen || canceled !== undefined, chainWaitMs, { summary: 'chain read past the deadline?' });
      chainWaitMs = Math.min(chainWaitMs * 2, LONGEST_CHAIN_WAIT_MS);
    } else if (expired) {
      // Past the expiry: only a payment still confirming keeps the order open; wait for it.
      setCurrentDetails(orderDetails(input, state.status, { expired }));
      await condition(() => payments > seen || canceled !== undefined);
    } else if (untilExpiry <= 0 || !(await condition(() => payments > seen || canceled !== undefined, untilExpiry, { summary: 'expiry' }))) {
      expired = true;
    }
    if (canceled) break;
    seen = payments;
    const verdict = await activities.evaluateOrder({ orderId: input.orderId, expired, ...(followsTheChain ? { waitForChain: true } : {}) });
    waitingForChain = verdict.waitingForChain === true;
    setStatus(state, verdict.status);
    await startDeliveries(verdict);
  }
  // The cancel handler must have answered before the workflow ends; its event goes out after it,
  // even when a settlement saw the cancel first and ended the loop before the handler's result came.
  await condition(allHandlersFinished);
  setCurrentDetails(orderDetails(input, state.status));
  if (canceled) await startDeliveries(canceled);
  return state;
}

function setStatus(state: OrderState, status: OrderStatus): void {
  if (state.status !== status) upsertSearchAttributes([{ key: searchAttributes.ObjectStatus, value: status }]);
  state.status = status;
}
