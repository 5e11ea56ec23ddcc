import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { prepare, transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import { expectedOrigin } from '../api/public-origin';
import type { AddressDeriver } from '../chains/derivation';
import type { Db } from '../db/database';
import { findOrder, listOrders } from './orders.repository';
import { InvalidRequestError, PermissionError, ResourceMissingError, ServiceUnavailableError } from '../domain/errors';
import type { Mode } from '../domain/mode';
import type { Logger } from '../logger';
import type { PriceSource } from '../prices/price-source';
import type { WebhookPolicy } from '../webhooks/deliveries';
import { cancelOrderWorkflow, type WorkflowStarter } from '../workflows/client';
import { orderObject } from './order.presenter';
import { orderOperations as operations } from './orders.schema';
import { createOrder, prepareOrder } from './orders.service';

export interface OrderRouteDeps extends WorkflowStarter {
  db: Db;
  logger: Logger;
  derivers: Partial<Record<Mode, AddressDeriver>>;
  prices: Record<Mode, PriceSource>;
  webhookPolicy: WebhookPolicy;
  /** Where browsers reach inflow (INFLOW_PUBLIC_URL, trusted proxies): the origin of each order's `payment_url`. */
  publicOrigin?: string | undefined;
  trustedProxies?: string[] | undefined;
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

  // The callback URL's lookup and a fiat order's price are read before the transaction opens.
  const prepared = prepare(async (ctx) => {
    const caller = callerOf(ctx);
    return prepareOrder(caller, inputOf(ctx, operations.create.body), { prices: deps.prices[caller.mode], webhookPolicy: deps.webhookPolicy });
  });
  route(router, operations.create, prepared, transaction(deps.db), idempotency(), async (ctx) => {
    const caller = callerOf(ctx);
    const deriver = deps.derivers[caller.mode];
    if (!deriver) throw new PermissionError(`${caller.mode} mode is not enabled on this server: its operator has not configured its xpubs.`);
    // A proxy that forwards an unusable host leaves the connection's own origin.
    const publicOrigin = expectedOrigin(ctx, deps) ?? `${ctx.protocol}://${ctx.host}`;
    const { order } = await createOrder(transactionOf(ctx), caller, inputOf(ctx, operations.create.body), prepared.of(ctx), { deriver, publicOrigin });
    return order;
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { status, external_id, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listOrders(deps.db, caller, { status, external_id }, window),
      exists: async (id) => (await findOrder(deps.db, caller, id)) !== undefined,
      present: (rows) => orderObject(deps.db, rows),
    });
  });

  route(router, operations.retrieve, async (ctx) => {
    const [order] = await orderObject(deps.db, [await orderOf(ctx)]);
    return order!;
  });

  /**
   * The order's workflow decides (a Temporal Update): a settled order, or one already paid to,
   * refuses. The Update waits on Temporal for up to 10 s, so it runs before the transaction opens
   * (a prepare step), which then only records the idempotent answer. Canceling a canceled order
   * answers it again, as Stripe does: a retry of a cancel whose first answer was lost (a 503 after
   * the Update did apply) gets the canceled order, not an error.
   */
  const verdict = prepare(async (ctx) => {
    const order = await orderOf(ctx);
    if (order.status === 'canceled') return { canceled: true as const };
    return cancelOrderWorkflow(deps.temporal, { livemode: order.livemode, orderId: order.id });
  });
  route(router, operations.cancel, verdict, transaction(deps.db), idempotency(), async (ctx) => {
    const answer = verdict.of(ctx);
    if ('unanswered' in answer) {
      throw new ServiceUnavailableError("The order's workflow did not answer in time; the cancel may still take effect. GET the order, or retry later.");
    }
    const order = await orderOf(ctx);
    if ('refused' in answer && order.status !== 'canceled') throw new InvalidRequestError(answer.refused, undefined, 'order_not_cancelable');
    if ('closed' in answer && order.status !== 'canceled') {
      // Pending without a workflow: it has not started yet (or Temporal was down when the order was made).
      if (order.status === 'pending') throw new ServiceUnavailableError("The order's workflow is not running yet; nothing was changed. Retry later.");
      throw new InvalidRequestError(`The order is ${order.status}: only a pending order can be canceled.`, undefined, 'order_not_cancelable');
    }
    const [canceled] = await orderObject(transactionOf(ctx), [order]);
    return canceled!;
  });

  return router;
}
