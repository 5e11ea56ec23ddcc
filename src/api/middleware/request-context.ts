import type { Middleware } from 'koa';
import { newId } from '../../domain/ids';
import type { Logger } from '../../logger';
import type { AppState } from '../context';

/**
 * Gives every request an id (response header `Request-Id`, quoted by support and found in the
 * logs) and writes one structured log line when it ends.
 */
export function requestContext(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    ctx.state.requestId = newId('request');
    ctx.set('Request-Id', ctx.state.requestId);
    try {
      await next();
    } finally {
      const caller = ctx.state.caller;
      logger.info(
        {
          request_id: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(caller ? { merchant_id: caller.merchantId, livemode: caller.livemode } : {}),
        },
        'request',
      );
    }
  };
}
