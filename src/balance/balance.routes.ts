import Router from '@koa/router';
import { callerOf, type AppState } from '../api/context';
import { route } from '../api/operation';
import type { Db } from '../db/database';
import { balanceByCurrency } from './ledger.repository';
import { balanceObject } from './balance.presenter';
import { balanceOperations as operations } from './balance.schema';

/** `GET /balance`: what the caller's mode has received, paid in fees and netted, from the ledger. */
export function balanceRoutes(deps: { db: Db }): Router<AppState> {
  const router = new Router<AppState>();
  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    return balanceObject(caller, await balanceByCurrency(deps.db, caller));
  });
  return router;
}
