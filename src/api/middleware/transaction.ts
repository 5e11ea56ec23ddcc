import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import type { AppContext, AppState } from '../context';
import { hasStoredAnswer } from './idempotency';

/** The prepare steps chained before a request's transaction(), in order, until it runs them. */
const pending = new WeakMap<AppContext, Array<() => Promise<void>>>();

/**
 * Runs the rest of the request in one database transaction (ctx.state.transaction): a request
 * that fails rolls back every write it made. Workflows a request needs started are queued in the
 * same transaction (`outbox/queue.ts`), so nothing is left to do, or to lose, after the commit.
 *
 * Nothing after it may wait on the network (DNS, a price feed, Temporal): a transaction holds one
 * of the pool's few connections, and one merchant's slow hostnames would otherwise hold all of
 * them and stall every tenant. Such work goes in a `prepare()` step chained before it, which runs
 * here, before the transaction opens, unless the request is the replay of an answer stored for its
 * Idempotency-Key: idempotency() answers that inside the transaction, and the prepare steps would
 * only repeat network I/O whose outcome may have changed since (a hostname that no longer
 * resolves, a price feed that is down) or that must not happen twice (a cancel's Update).
 */
export function transaction(db: Db): Middleware<AppState> {
  return async (ctx, next) => {
    const steps = pending.get(ctx) ?? [];
    pending.delete(ctx);
    // One short read, on the pool and in no transaction; only routes with prepare steps pay it.
    if (steps.length > 0 && !(await hasStoredAnswer(db, ctx))) {
      for (const step of steps) await step();
    }
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
 * lookup), reading a price, asking a workflow. Chain it right before transaction(), which runs it:
 *
 *   const vetted = prepare(async (ctx) => checkDestinationUrl(…));
 *   route(router, operation, vetted, transaction(db), idempotency(), async (ctx) => … vetted.of(ctx) …);
 *
 * A replay of a stored answer skips it (transaction() looks for one first). A retry that arrives
 * while its first request is still in progress finds nothing stored yet and runs it again before
 * waiting on the first one's claim and replaying, so it must still be safe to repeat.
 */
export function prepare<T>(work: (ctx: AppContext) => Promise<T>): Prepared<T> {
  const results = new WeakMap<AppContext, T>();
  const step: Middleware<AppState> = async (ctx, next) => {
    pending.set(ctx, [...(pending.get(ctx) ?? []), async () => void results.set(ctx, await work(ctx))]);
    return next();
  };
  return Object.assign(step, {
    of(ctx: AppContext): T {
      if (!results.has(ctx)) throw new Error('prepared step read before it ran: chain it right before transaction(), and read it in the handler');
      return results.get(ctx)!;
    },
  });
}
