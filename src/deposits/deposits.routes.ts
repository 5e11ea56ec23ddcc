import Router from '@koa/router';
import type { Middleware } from 'koa';
import { callerOf, transactionOf, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf, validate } from '../api/middleware/validate';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { findDeposit, listDeposits } from '../db/repositories/deposits.repository';
import { PermissionError, ResourceMissingError } from '../domain/errors';
import type { Logger } from '../logger';
import { depositObject } from './deposit.presenter';
import { ListDepositsQuery, SimulateDepositBody } from './deposits.schema';
import { simulateDeposit } from './simulate';

export interface DepositRouteDeps {
  db: Db;
  logger: Logger;
  /** Overrides every network's block time for simulated confirmations (tests, demos). */
  simulatedBlockTimeMs?: number | undefined;
}

export function depositRoutes(deps: DepositRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  router.get('/deposits', validate(ListDepositsQuery), async (ctx) => {
    const caller = callerOf(ctx);
    const { customer_id, status, network, ...page } = inputOf(ctx, ListDepositsQuery);
    ctx.body = await paginate(page, {
      fetch: (limit, startingAfter) => listDeposits(deps.db, caller, { customer_id, status, network }, { limit, startingAfter }),
      exists: async (id) => (await findDeposit(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(depositObject),
    });
  });

  router.post('/deposits/simulate', requireTestMode, validate(SimulateDepositBody), transaction(deps.db), idempotency(), async (ctx) => {
    const deposit = await simulateDeposit(transactionOf(ctx), callerOf(ctx), inputOf(ctx, SimulateDepositBody), {
      idempotencyKey: ctx.get('Idempotency-Key') || undefined,
      blockTimeMs: deps.simulatedBlockTimeMs,
    });
    ctx.body = depositObject(deposit);
  });

  router.get('/deposits/:id', async (ctx) => {
    const id = ctx.params.id ?? '';
    const deposit = await findDeposit(deps.db, callerOf(ctx), id);
    if (!deposit) throw new ResourceMissingError(`No such deposit: '${id}'`, 'id');
    ctx.body = depositObject(deposit);
  });

  return router;
}

const requireTestMode: Middleware<AppState> = async (ctx, next) => {
  if (callerOf(ctx).livemode) {
    throw new PermissionError('Simulated deposits exist only in test mode: use a sk_test_ key.');
  }
  await next();
};
