import Router from '@koa/router';
import type { Middleware } from 'koa';
import { callerOf, transactionOf, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { prepare, transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { PayoutSettings } from '../config';
import type { Db } from '../db/database';
import { ResourceMissingError } from '../domain/errors';
import type { Mode } from '../domain/mode';
import type { PriceSource } from '../prices/price-source';
import { wakePayoutWorkflow, type WorkflowStarter } from '../workflows/client';
import { payoutObject } from './payout.presenter';
import { findPayout, listPayouts } from './payouts.repository';
import { payoutOperations as operations } from './payouts.schema';
import { approvePayout, cancelPayout, createPayout, preparePayout } from './payouts.service';

export interface PayoutRouteDeps {
  db: Db;
  /** Reaches the payouts' workflows to wake them after an approval or a cancel. */
  temporal: WorkflowStarter['temporal'];
  prices: Record<Mode, PriceSource>;
  payouts?: PayoutSettings | undefined;
}

/** `POST /payouts`, its list, one by id, and its cancel (docs/payouts.md). */
export function payoutRoutes(deps: PayoutRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  // The operator's settings and the fee's price are read before the transaction opens.
  const prepared = prepare(async (ctx) => {
    const caller = callerOf(ctx);
    return preparePayout(caller, inputOf(ctx, operations.create.body), { settings: deps.payouts, prices: deps.prices[caller.mode] });
  });
  route(router, operations.create, prepared, transaction(deps.db), idempotency(), async (ctx) => {
    const ready = prepared.of(ctx);
    return createPayout(transactionOf(ctx), callerOf(ctx), inputOf(ctx, operations.create.body), { ...ready, amount: ready.amount! });
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { status, deposit_id, external_id, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listPayouts(deps.db, caller, { status, deposit_id, external_id }, window),
      exists: async (id) => (await findPayout(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(payoutObject),
    });
  });

  route(router, operations.retrieve, async (ctx) => {
    const id = ctx.params.id ?? '';
    const payout = await findPayout(deps.db, callerOf(ctx), id);
    if (!payout) throw new ResourceMissingError(`No such payout: '${id}'`, 'id');
    return payoutObject(payout);
  });

  /**
   * Once an approval or a cancel is committed, the payout's workflow is told to look now rather than
   * at its next re-check: after the transaction (the workflow must read the committed row), and not
   * awaited (the answer never waits on Temporal; a lost signal costs only that re-check's wait).
   */
  const wakeItsWorkflow: Middleware<AppState> = async (ctx, next) => {
    await next();
    if (ctx.status === 200) void wakePayoutWorkflow(deps.temporal, { livemode: callerOf(ctx).livemode, payoutId: ctx.params.id ?? '' });
  };
  route(router, operations.cancel, wakeItsWorkflow, transaction(deps.db), idempotency(), async (ctx) =>
    cancelPayout(transactionOf(ctx), callerOf(ctx), ctx.params.id ?? ''),
  );
  route(router, operations.approve, wakeItsWorkflow, transaction(deps.db), idempotency(), async (ctx) =>
    approvePayout(transactionOf(ctx), callerOf(ctx), ctx.params.id ?? ''),
  );

  return router;
}
