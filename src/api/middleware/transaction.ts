import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import type { AppContext, AppState } from '../context';

/**
 * Runs the rest of the request in one database transaction (ctx.state.transaction): a request
 * that fails rolls back every write it made. Workflows a request needs started are queued in the
 * same transaction (`outbox/queue.ts`), so nothing is left to do, or to lose, after the commit.
 *
 * Nothing after it may wait on the network (DNS, a price feed, Temporal): a transaction holds one
 * of the pool's few connections, and one merchant's slow hostnames would otherwise hold all of
 * them and stall every tenant. Such work goes in a `prepare()` step chained before it.
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

/** A step of a route that runs before its transaction opens; `of(ctx)` is what it returned. */
export interface Prepared<T> extends Middleware<AppState> {
  of(ctx: AppContext): T;
}

/**
 * The network I/O of a write, done before `transaction()` opens: vetting a caller's URL (its DNS
 * lookup), reading a price, asking a workflow. Chain it first:
 *
 *   const vetted = prepare(async (ctx) => checkDestinationUrl(…));
 *   route(router, operation, vetted, transaction(db), idempotency(), async (ctx) => … vetted.of(ctx) …);
 *
 * It runs before the Idempotency-Key is looked at, so it must be safe to repeat: a replay runs it
 * again and then answers what the first request answered.
 */
export function prepare<T>(work: (ctx: AppContext) => Promise<T>): Prepared<T> {
  const results = new WeakMap<AppContext, T>();
  const step: Middleware<AppState> = async (ctx, next) => {
    results.set(ctx, await work(ctx));
    return next();
  };
  return Object.assign(step, {
    of(ctx: AppContext): T {
      if (!results.has(ctx)) throw new Error('prepared step read before it ran: chain it before the handler');
      return results.get(ctx)!;
    },
  });
}
