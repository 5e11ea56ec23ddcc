import Router from '@koa/router';
import { callerOf, type AppState } from '../api/context';
import type { Db } from '../db/database';
import { balanceByCurrency } from '../db/repositories/ledger.repository';
import { balanceObject } from './balance.presenter';

/** `GET /balance`: what the caller's mode has received, paid in fees and netted, from the ledger. */
export function balanceRoutes(deps: { db: Db }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/balance', async (ctx) => {
    const caller = callerOf(ctx);
    ctx.body = balanceObject(caller, await balanceByCurrency(deps.db, caller));
  });
  return router;
}
