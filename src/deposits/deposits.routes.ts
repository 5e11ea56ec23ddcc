import Router from '@koa/router';
import { callerOf, transactionOf, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { findDeposit, listDeposits } from './deposits.repository';
import { ResourceMissingError } from '../domain/errors';
import type { Logger } from '../logger';
import { depositObject } from './deposit.presenter';
import { depositOperations as operations } from './deposits.schema';
import { simulateDeposit } from './simulate';

export interface DepositRouteDeps {
  db: Db;
  logger: Logger;
  /** Overrides every network's block time for simulated confirmations (tests, demos). */
  simulatedBlockTimeMs?: number | undefined;
}

export function depositRoutes(deps: DepositRouteDeps): Router<AppState> {
  const router = new Router<AppState>();

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { customer_id, status, network, order_id, transaction_hash, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listDeposits(deps.db, caller, { customer_id, status, network, order_id, transaction_hash }, window),
      exists: async (id) => (await findDeposit(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map(depositObject),
    });
  });

  route(router, operations.simulate, transaction(deps.db), idempotency(), async (ctx) => {
    const deposit = await simulateDeposit(transactionOf(ctx), callerOf(ctx), inputOf(ctx, operations.simulate.body), {
      blockTimeMs: deps.simulatedBlockTimeMs,
    });
    return depositObject(deposit);
  });

  route(router, operations.retrieve, async (ctx) => {
    const id = ctx.params.id ?? '';
    const deposit = await findDeposit(deps.db, callerOf(ctx), id);
    if (!deposit) throw new ResourceMissingError(`No such deposit: '${id}'`, 'id');
    return depositObject(deposit);
  });

  return router;
}
