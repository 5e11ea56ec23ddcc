import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import {
  claimIdempotencyKey,
  deleteIdempotencyKeyIfExpired,
  findIdempotencyKey,
  saveIdempotentResponse,
  type IdempotencyScope,
} from '../../db/repositories/idempotency-keys.repository';
import { IdempotencyError, InvalidRequestError } from '../../domain/errors';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../../domain/idempotency';
import { callerOf, transactionOf, type AppState } from '../context';

/**
 * Makes a POST that carries an `Idempotency-Key` idempotent, inside the request's transaction
 * (chain it after transaction()): the first request claims the key (a primary-key insert, so a
 * concurrent twin waits, then replays), its response is stored in the same transaction, and a
 * replay with the same parameters (compared as JSON, not as bytes) returns it with
 * `Idempotent-Replayed: true`; other parameters get a 409. A request that fails rolls back its
 * writes and its claim alike, so it can be retried with the same key.
 */
export function idempotency(): Middleware<AppState> {
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (key.length > 255) {
      throw new InvalidRequestError('Idempotency-Key may be at most 255 characters.', 'Idempotency-Key');
    }
    if (!key) return next();
    const transaction = transactionOf(ctx);
    const caller = callerOf(ctx);
    const scope: IdempotencyScope = { merchantId: caller.merchantId, livemode: caller.livemode, key };
    const fingerprint = createHash('sha256')
      .update(`${ctx.method} ${ctx.path}\n${canonicalJson(ctx.state.body ?? {})}`)
      .digest('hex');

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
      ctx.type = 'application/json';
      ctx.body = stored.response_body;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    await next();
    // Serialised once here, so the first answer and every replay are the same bytes.
    const body = JSON.stringify(ctx.body);
    await saveIdempotentResponse(transaction, scope, ctx.status, body);
    ctx.type = 'application/json';
    ctx.body = body;
  };
}

/** JSON with object keys sorted, so the same parameters give the same fingerprint however sent. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
