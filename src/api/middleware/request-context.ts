import type { Middleware } from 'koa';
import { newId } from '../../domain/ids';
import type { Logger } from '../../logger';
import { storable, type RequestLog } from '../../requests/request-log';
import type { AppContext, AppState } from '../context';

/**
 * Gives every request an id (response header `Request-Id`, quoted by support and found in the
 * logs) and writes one structured log line when it ends. A request whose key authenticated is
 * also handed to the merchant's request log (`GET /requests/{id}`), which writes it later, in a
 * batch: the answer never waits for the database.
 */
export function requestContext(logger: Logger, requestLog?: Pick<RequestLog, 'record'>): Middleware<AppState> {
  return async (ctx, next) => {
    const arrived = new Date();
    const started = process.hrtime.bigint();
    ctx.state.requestId = newId('request', arrived.getTime());
    ctx.set('Request-Id', ctx.state.requestId);
    try {
      await next();
    } finally {
      const caller = ctx.state.caller;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          request_id: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          duration_ms: durationMs,
          ...(caller ? { merchant_id: caller.merchantId, livemode: caller.livemode } : {}),
        },
        'request',
      );
      if (caller && requestLog) requestLog.record(loggedRequest(ctx, arrived, durationMs));
    }
  };
}

/**
 * What the request log keeps of an authenticated request: never its body, its key or its query
 * string (a `search=` may hold an email); the error as the answer gave it.
 */
function loggedRequest(ctx: AppContext, arrived: Date, durationMs: number) {
  const caller = ctx.state.caller!;
  const error = ctx.status >= 400 ? errorOf(ctx.body) : undefined;
  const idempotencyKey = ctx.get('Idempotency-Key');
  return {
    id: ctx.state.requestId,
    merchant_id: caller.merchantId,
    livemode: caller.livemode,
    api_key_id: caller.apiKeyId,
    method: storable(ctx.method, 16),
    path: storable(ctx.path, 2048),
    operation_id: ctx.state.operationId ?? null,
    status: ctx.status,
    error_type: error ? storable(error.type, 64) : null,
    error_code: error ? storable(error.code, 128) : null,
    error_message: error ? storable(error.message, 2048) : null,
    error_param: error?.param === undefined ? null : storable(error.param, 256),
    idempotency_key: idempotencyKey === '' ? null : storable(idempotencyKey, 255),
    duration_ms: Math.max(0, Math.round(durationMs)),
    created_at: arrived,
  };
}

/** The `error` of the contract's error JSON, when the answer is one. */
function errorOf(body: unknown): { type: string; code: string; message: string; param?: string } | undefined {
  // An Idempotency-Key's replayed answer is the stored JSON text.
  if (typeof body === 'string' && body.startsWith('{"error"')) return errorOf(parsed(body));
  const error = (body as { error?: unknown } | null | undefined)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, code, message, param } = error as Record<string, unknown>;
  if (typeof type !== 'string' || typeof code !== 'string' || typeof message !== 'string') return undefined;
  return { type, code, message, ...(typeof param === 'string' ? { param } : {}) };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
