import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { BodyTooLargeError, InvalidRequestError } from '../../domain/errors';
import type { AppState } from '../context';

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Reads a JSON request body of at most 64 KB into ctx.state.body. An empty body is `{}`;
 * anything that is not a JSON object is a 400.
 */
export function jsonBody(): Middleware<AppState> {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    let raw: string;
    try {
      raw = await getRawBody(ctx.req, { limit: BODY_LIMIT_BYTES, encoding: 'utf8', length: ctx.get('Content-Length') || undefined });
    } catch (error) {
      if ((error as { type?: string }).type === 'entity.too.large') {
        throw new BodyTooLargeError(`Request bodies may be at most ${BODY_LIMIT_BYTES / 1024} KB.`);
      }
      throw new InvalidRequestError('The request body could not be read.', undefined, 'body_unreadable');
    }
    if (raw.trim() === '') {
      ctx.state.body = {};
      return next();
    }
    if (!ctx.is('application/json')) {
      throw new InvalidRequestError('Request bodies must be JSON, sent with Content-Type: application/json.', undefined, 'content_type_invalid');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidRequestError('The request body is not valid JSON.', undefined, 'json_invalid');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidRequestError('The request body must be a JSON object.', undefined, 'json_invalid');
    }
    ctx.state.body = parsed;
    return next();
  };
}
