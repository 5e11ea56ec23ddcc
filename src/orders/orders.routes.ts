import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { AddressDeriver } from '../chains/derivation';
import type { Db } from '../db/database';
import { findOrder, listOrders } from '../db/repositories/orders.repository';
import { InvalidRequestError, PermissionError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
import type { Mode } from '../domain/mode';
import type { Logger } from '../logger';
import type { PriceSource } from '../prices/price-source';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { cancelOrderWorkflow, type WorkflowStarter } from '../workflows/client';
import { orderObject } from './order.presenter';
import { orderOperations as operations } from './orders.schema';
import { createOrder } from './orders.service';

export interface OrderRouteDeps extends WorkflowStarter {
  db: Db;
  logger: Logger;
  derivers: Partial<Record<Mode, AddressDeriver>>;
  prices: Record<Mode, PriceSource>;
  webhookPolicy: WebhookPolicy;
}

export function orderRoutes(deps: OrderRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  const orderOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    // Another merchant's or mode's order is as missing as one that never existed.
    const order = await findOrder(deps.db, callerOf(ctx), id);
    if (!order) throw new ResourceMissingError(`No such order: '${id}'`, 'id');
    return order;
  };

  route(router, operations.create, transaction(deps.db), idempotency(), async (ctx) => {
    const caller = callerOf(ctx);
    const deriver = deps.derivers[caller.mode];
    if (!deriver) throw new PermissionError(`${caller.mode} mode is not enabled on this server: its operator has not configured its xpubs.`);
    const { order } = await createOrder(transactionOf(ctx), caller, inputOf(ctx, operations.create.body), {
      deriver,
      prices: deps.prices[caller.mode],
      webhookPolicy: deps.webhookPolicy,
    });
    return order;
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { status, external_id, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (limit, startingAfter) => listOrders(deps.db, caller, { status, external_id }, { limit, startingAfter }),
      exists: async (id) => (await findOrder(deps.db, caller, id)) !== undefined,
      present: (rows) => orderObject(deps.db, rows),
    });
  });

  route(router, operations.retrieve, async (ctx) => {
    const [order] = await orderObject(deps.db, [await orderOf(ctx)]);
    return order!;
  });

  /** The order's workflow decides (a Temporal Update): a settled order, or one already paid to, refuses. */
  route(router, operations.cancel, transaction(deps.db), idempotency(), async (ctx) => {
    const order = await orderOf(ctx);
    const verdict = await cancelOrderWorkflow(deps.temporal, { livemode: order.livemode, orderId: order.id });
    if ('unanswered' in verdict) {
      throw new ServiceUnavailableError("The order's workflow did not answer in time; the cancel may still take effect. GET the order, or retry later.");
    }
    if ('refused' in verdict) throw new InvalidRequestError(verdict.refused, undefined, 'order_not_cancelable');
    if ('closed' in verdict) {
      const { status } = await orderOf(ctx);
      // Pending without a workflow: it has not started yet (or Temporal was down when the order was made).
      if (status === 'pending') throw new ServiceUnavailableError("The order's workflow is not running yet; nothing was changed. Retry later.");
      throw new InvalidRequestError(`The order is ${status}: only a pending order can be canceled.`, undefined, 'order_not_cancelable');
    }
    const [canceled] = await orderObject(transactionOf(ctx), [await orderOf(ctx)]);
    return canceled!;
  });

  return router;
}
