import type { Db } from '../db/database';
import { cancelOrder, evaluateOrder } from '../orders/settlement';
import type { OrderActivities } from '../workflows/definitions';
import { withDeliveries } from '../webhooks/deliveries';

export function createOrderActivities(deps: { db: Db }): OrderActivities {
  const { db } = deps;
  return {
    async evaluateOrder(input) {
      return withDeliveries(db, (transaction) => evaluateOrder(transaction, input.orderId, input.expired, { waitForChain: input.waitForChain ?? false }));
    },
    async cancelOrder(input) {
      return withDeliveries(db, (transaction) => cancelOrder(transaction, input.orderId));
    },
  };
}
