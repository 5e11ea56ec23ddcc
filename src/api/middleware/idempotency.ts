import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import {
  claimIdempotencyKey,
  deleteIdempotencyKeyIfExpired,
  findIdempotencyKey,
  saveIdempotentResponse,
  type IdempotencyScope,
} from '../idempotency-keys.repository';
import { IdempotencyError, InvalidRequestError } from '../../domain/errors';
import { IDEMPOTENCY_KEY_TTL_HOURS } from '../../domain/idempotency';
import { isSealedResponse, openStoredResponse, sealStoredResponse } from '../../webhooks/sealed-secrets';
import type { Db } from '../../db/database';
import { callerOf, transactionOf, type AppContext, type AppState } from '../context';

export interface IdempotencyOptions {
  /**
   * INFLOW_SECRET_KEY, for an operation whose answer carries a secret (a webhook endpoint's
   * signing secret): its stored answer is sealed with it and opened on replay, so the table never
   * holds a secret that its own row elsewhere keeps sealed, and a retry still gets the secret.
   */
  sealWith?: Buffer | undefined;
}

/**
 * Makes a POST that carries an `Idempotency-Key` idempotent, inside the request's transaction
 * (chain it after transaction()): the first request claims the key (a primary-key insert, so a
 * concurrent twin waits, then replays), its response is stored in the same transaction, and a
 * replay with the same parameters (compared as JSON, not as bytes) returns it with
 * `Idempotent-Replayed: true`; other parameters get a 409. A request that fails rolls back its
 * writes and its claim alike, so it can be retried with the same key.
 */
export function idempotency(options: IdempotencyOptions = {}): Middleware<AppState> {
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (key.length > 255) {
      throw new InvalidRequestError('Idempotency-Key may be at most 255 characters.', 'Idempotency-Key');
    }
    if (!key) return next();
    const transaction = transactionOf(ctx);
    const caller = callerOf(ctx);
    const scope: IdempotencyScope = { merchantId: caller.merchantId, livemode: caller.livemode, key };
    const fingerprint = fingerprintOf(ctx);

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
      ctx.body = storedAnswer(stored.response_body, scope, options);
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    await next();
    // Serialised once here, so the first answer and every replay are the same bytes.
    const body = JSON.stringify(ctx.body);
    await saveIdempotentResponse(transaction, scope, ctx.status, options.sealWith ? sealStoredResponse(body, options.sealWith, scope) : body);
    ctx.type = 'application/json';
    ctx.body = body;
  };
}

/**
 * A stored answer's JSON text, as first sent. Every replay goes through here (a sealed answer is
 * not JSON): a sealed one without the key to open it is a server fault, never sent as it is.
 */
export function storedAnswer(stored: string, scope: IdempotencyScope, options: IdempotencyOptions): string {
  if (options.sealWith) return openStoredResponse(stored, options.sealWith, scope);
  if (!isSealedResponse(stored)) return stored;
  throw new Error(`the stored answer of Idempotency-Key ${JSON.stringify(scope.key)} is sealed, and this operation has no key to open it`);
}

/**
 * Whether this very request (same key, same method, path and parameters) already has an answer
 * stored: read on the pool, before the request's prepare steps (transaction.ts), so that a replay
 * runs none of their network I/O again (a URL's lookup that fails now, a price feed that is down,
 * a cancel's Temporal Update) and gets the stored answer from idempotency() in a transaction that
 * waits on nothing. A key whose answer is about to expire counts as not stored: the transaction
 * might find it expired and run the request afresh, which needs what the prepare steps return.
 */
export async function hasStoredAnswer(db: Db, ctx: AppContext): Promise<boolean> {
  const key = ctx.get('Idempotency-Key');
  const caller = ctx.state.caller;
  if (!key || key.length > 255 || !caller) return false;
  const stored = await findIdempotencyKey(db, { merchantId: caller.merchantId, livemode: caller.livemode, key });
  if (!stored || stored.request_fingerprint !== fingerprintOf(ctx)) return false;
  return stored.created_at.getTime() > Date.now() - IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000 + STORED_ANSWER_MARGIN_MS;
}

/** How long before its expiry a stored answer is no longer counted on before the transaction (clocks of the API and Postgres may differ by this much). */
const STORED_ANSWER_MARGIN_MS = 5 * 60_000;

/** The request as an idempotent replay must repeat it: method, path and parameters. */
function fingerprintOf(ctx: AppContext): string {
  return createHash('sha256')
    .update(`${ctx.method} ${ctx.path}\n${canonicalJson(ctx.state.body ?? {})}`)
    .digest('hex');
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
