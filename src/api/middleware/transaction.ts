import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import type { Logger } from '../../logger';
import type { AppState } from '../context';

/**
 * Runs the rest of the request in one database transaction (ctx.state.transaction): a request
 * that fails rolls back every write it made. Once committed, the work the handler registered with
 * afterCommit runs (workflow starts that must see the new rows); its failure cannot undo the
 * commit, so it is logged with the request id rather than turned into an error response.
 */
export function transaction(db: Db, logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    await db.transaction().execute(async (transaction) => {
      ctx.state.transaction = transaction;
      try {
        await next();
      } finally {
        delete ctx.state.transaction;
      }
    });
    for (const work of ctx.state.afterCommit ?? []) {
      await work().catch((error: unknown) => logger.error({ request_id: ctx.state.requestId, err: error }, 'after-commit work failed'));
    }
  };
}
