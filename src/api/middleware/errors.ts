import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { InflowError, InternalError, InvalidRequestError, MethodNotAllowedError, ResourceMissingError, ServiceUnavailableError } from '../../domain/errors';
import type { Logger } from '../../logger';
import type { AppState } from '../context';

/**
 * Turns anything thrown below it into the contract's error JSON. A Postgres or Temporal outage
 * becomes a 503 the client may retry; any other unexpected error a 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const error = toInflowError(thrown);
      if (error.status >= 500) {
        logger.error({ request_id: ctx.state.requestId, err: thrown }, error.message);
      }
      ctx.status = error.status;
      ctx.body = error.toJSON();
    }
  };
}

/** The catch-all for paths no route matched. */
export const notFound: Middleware<AppState> = (ctx) => {
  throw new ResourceMissingError(`Unrecognized request URL (${ctx.method}: ${ctx.path}).`);
};

/**
 * The catch-all of a router: a path it serves with other methods answers 405 with `Allow` naming
 * them (RFC 9110 §15.5.6: `TRACE /customers` is a method the path lacks, not a path that is
 * missing); any other path the 404 of `notFound`. The catch-all's own layer serves every method,
 * so it is left out of what the path allows.
 */
export function unmatched(router: Router<AppState>): Middleware<AppState> {
  return (ctx) => {
    const layers = router.match(ctx.path, ctx.method).path.filter((layer) => layer.methods.length > 0 && !String(layer.path).includes('{*rest}'));
    const allowed = [...new Set(layers.flatMap((layer) => layer.methods))];
    if (allowed.length === 0) return notFound(ctx, async () => {});
    ctx.set('Allow', allowed.join(', '));
    throw new MethodNotAllowedError(`${ctx.method} is not allowed on ${ctx.path}: use ${allowed.join(', ')}.`);
  };
}

function toInflowError(thrown: unknown): InflowError {
  if (thrown instanceof InflowError) return thrown;
  // Text Postgres cannot store came from the client; validation should have caught it first.
  const sqlState = (thrown as { code?: unknown } | null)?.code;
  if (sqlState === '22021' || sqlState === '22P05') {
    return new InvalidRequestError('The request contains characters that cannot be stored.', undefined, 'parameter_invalid');
  }
  const outage = unavailableDependency(thrown);
  if (outage) {
    return new ServiceUnavailableError(`${outage} is unavailable; nothing was changed. Retry later.`);
  }
  return new InternalError('An unexpected error occurred. It has been logged with this request id.');
}

// gRPC status codes (grpc/status.h) that mean the Temporal frontend cannot be reached in time.
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * Which dependency an error says is down, if it says so. Duck-typed on purpose: errors raised by
 * Node's sockets may come from another realm (as under jest), where `instanceof Error` is false.
 */
export function unavailableDependency(error: unknown): 'Postgres' | 'Temporal' | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if (error instanceof ServiceError) return unavailableDependency(error.cause) && 'Temporal';
  if (isGrpcServiceError(error)) {
    return error.code === GRPC_UNAVAILABLE || error.code === GRPC_DEADLINE_EXCEEDED ? 'Temporal' : undefined;
  }
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (connectionErrorCodes.has(code) || /^(08|57P0)/.test(code))) return 'Postgres';
  // pg-pool's own timeouts and dropped connections carry no code (nor does a statement on a connection that died mid-transaction).
  if (typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated|Query read timeout|is not queryable/i.test(message)) {
    return 'Postgres';
  }
  // Connecting to "localhost" tries every address and reports them together.
  if (Array.isArray(errors)) return unavailableDependency(errors[0]);
  return undefined;
}
