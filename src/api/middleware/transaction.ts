import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import type { AppState } from '../context';

/**
 * Runs the rest of the request in one database transaction (ctx.state.transaction): a request
 * that fails rolls back every write it made. Workflows a request needs started are queued in the
 * same transaction (`outbox/queue.ts`), so nothing is left to do, or to lose, after the commit.
 */
export function transaction(db: Db): Middleware<AppState> {
  return async (ctx, next) => {
    await db.transaction().execute(async (transaction) => {
      ctx.state.transaction = transaction;
      try {
        await next();
      } finally {
        delete ctx.state.transaction;
      }
    });
  };
}
