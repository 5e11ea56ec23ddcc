import type { Db } from '../db/database';
import { cancelOrder, evaluateOrder } from '../orders/settlement';
import type { OrderActivities } from '../workflows/definitions';
import { withActivityFailures } from './failures';

export function createOrderActivities(deps: { db: Db }): OrderActivities {
  const { db } = deps;
  return withActivityFailures({
    async evaluateOrder(input) {
      return evaluateOrder(db, input.orderId, input.expired, { waitForChain: input.waitForChain ?? false });
    },
    async cancelOrder(input) {
      return cancelOrder(db, input.orderId);
    },
  });
}
