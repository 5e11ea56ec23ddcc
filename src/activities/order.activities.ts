import type { Db } from '../db/database';
import { cancelOrder, evaluateOrder } from '../orders/settlement';
import type { OrderActivities } from '../workflows/definitions';

export function createOrderActivities(deps: { db: Db }): OrderActivities {
  const { db } = deps;
  return {
    async evaluateOrder(input) {
      return evaluateOrder(db, input.orderId, input.expired);
    },
    async cancelOrder(input) {
      return cancelOrder(db, input.orderId);
    },
  };
}
