import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Db } from '../../db/database';
import {
  claimIdempotencyKey,
  deleteIdempotencyKeyIfExpired,
  findIdempotencyKey,
  saveIdempotentResponse,
  type IdempotencyScope,
} from '../../db/repositories/idempotency-keys.repository';
import { IdempotencyError, InvalidRequestError } from '../../domain/errors';
import { callerOf, type AppState } from '../context';

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/**
 * Runs a POST in one database transaction and, when it carries an `Idempotency-Key`, makes it
 * idempotent in that same transaction: the first request claims the key (a primary-key insert,
 * so a concurrent twin waits, then replays), its response is stored on commit, and a replay with
 * the same body returns it with `Idempotent-Replayed: true`; another body gets a 409. A request
 * that fails rolls back its writes and its claim alike, so it can be retried with the same key.
 */
export function idempotency(db: Db): Middleware<AppState> {
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (key.length > 255) {
      throw new InvalidRequestError('Idempotency-Key may be at most 255 characters.', 'Idempotency-Key');
    }
    await db.transaction().execute(async (transaction) => {
      ctx.state.transaction = transaction;
      try {
        if (!key) return await next();
        const caller = callerOf(ctx);
        const scope: IdempotencyScope = { merchantId: caller.merchantId, livemode: caller.livemode, key };
        const fingerprint = createHash('sha256').update(`${ctx.method} ${ctx.path}\n${ctx.state.rawBody ?? ''}`).digest('hex');

        let claimed = await claimIdempotencyKey(transaction, scope, fingerprint);
        if (!claimed && (await deleteIdempotencyKeyIfExpired(transaction, scope, IDEMPOTENCY_KEY_TTL_HOURS))) {
          claimed = await claimIdempotencyKey(transaction, scope, fingerprint);
        }
        if (!claimed) {
          const stored = (await findIdempotencyKey(transaction, scope))!;
          if (stored.request_fingerprint !== fingerprint) {
            throw new IdempotencyError(
              'Keys for idempotent requests can only be used with the same parameters they were first used with. Use a new Idempotency-Key for a different request.',
              'Idempotency-Key',
            );
          }
          ctx.status = stored.response_status;
          ctx.body = stored.response_body;
          ctx.set('Idempotent-Replayed', 'true');
          return;
        }
        await next();
        await saveIdempotentResponse(transaction, scope, ctx.status, ctx.body);
      } finally {
        delete ctx.state.transaction;
      }
    });
  };
}
