/**
 * One place that says what each route is: its method and path, the zod schemas that validate its
 * input and type its answer, the resource its permission check names, and the prose the OpenAPI
 * document shows. Routes are registered from these (`route()`), and `openapi.ts` generates the
 * document from the same values, so the contract cannot drift from the code.
 */
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import { InvalidRequestError, PermissionError } from '../domain/errors';
import { idPrefixes, isId, type IdKind } from '../domain/ids';
import type { Access, Resource } from '../domain/permissions';
import { allows } from '../domain/permissions';
import { callerOf, type AppContext, type AppState } from './context';
import { validate } from './middleware/validate';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface Operation<Query extends z.ZodType = z.ZodType, Body extends z.ZodType = z.ZodType, Response extends z.ZodType = z.ZodType> {
  /** The name SDKs and generators give the call: `createCustomer`. */
  operationId: string;
  method: HttpMethod;
  /** Koa's spelling, under /api/v1: `/customers/:id`. */
  path: `/${string}`;
  /** The kind of object the path's `:id` names: a path id not of its form is a 400 `id`, never a lookup. */
  pathId?: IdKind;
  /** The OpenAPI tag (the reference's section). */
  tag: string;
  summary: string;
  description?: string;
  /** What the key's permissions must grant: read for GET, write for anything else. Absent: any valid key may call it (`GET /account`). */
  resource?: Resource;
  query?: Query;
  body?: Body;
  response: Response;
  /** When the operation answers 409 because of the object's state (`code`: when), besides an Idempotency-Key conflict. */
  conflicts?: Record<string, string>;
  /** Honours `Idempotency-Key`. */
  idempotent?: true;
  /** Refused with a live key before anything else is looked at. */
  testModeOnly?: true;
  /**
   * Answers with a stream of this media type instead of one JSON object: server-sent events
   * (`response` describes each item), or a CSV file (`response` describes one row's object).
   */
  streams?: 'text/event-stream' | 'text/csv';
}

export function defineOperation<Query extends z.ZodType = z.ZodNever, Body extends z.ZodType = z.ZodNever, Response extends z.ZodType = z.ZodType>(
  operation: Operation<Query, Body, Response>,
): Operation<Query, Body, Response> {
  return operation;
}

export function accessOf(operation: Pick<Operation, 'method'>): Access {
  return operation.method === 'get' ? 'read' : 'write';
}

/** The handler returns the response body, typed by the operation's response schema. */
type Handler<Response extends z.ZodType> = (ctx: AppContext) => Promise<z.input<Response> | typeof streamed>;

/** A handler that has written its own answer (a stream) returns this instead of a body. */
export const streamed = Symbol('streamed');

/**
 * Registers the operation on the router: permission check, test-mode check, input validation
 * with its schemas, then the route's own middleware (transaction, idempotency) and handler.
 */
export function route<Query extends z.ZodType, Body extends z.ZodType, Response extends z.ZodType>(
  router: Router<AppState>,
  operation: Operation<Query, Body, Response>,
  ...chain: [...Array<Middleware<AppState>>, Handler<Response>]
): void {
  const handler = chain.at(-1) as Handler<Response>;
  const middleware = chain.slice(0, -1) as Array<Middleware<AppState>>;
  router[operation.method](
    operation.path,
    authorize(operation),
    ...(operation.idempotent || operation.method === 'get' ? [] : [refuseIdempotencyKey(operation)]),
    ...(operation.pathId ? [checkPathId(operation.pathId)] : []),
    ...(operation.query ? [validate(operation.query)] : []),
    ...(operation.body ? [validate(operation.body)] : []),
    ...middleware,
    async (ctx) => {
      const body = await handler(ctx);
      if (body !== streamed) ctx.body = body;
    },
  );
}

/**
 * A write that does not honour `Idempotency-Key` refuses one rather than ignore it: a client that
 * sends it believes a retry is safe, and here it is not (a PATCH, a key's create or roll).
 */
function refuseIdempotencyKey(operation: Operation): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.get('Idempotency-Key') === '') return next();
    throw new InvalidRequestError(
      `${operation.method.toUpperCase()} /api/v1${operation.path} does not honour Idempotency-Key, so a retry would not be answered from the first request: send it without the header (the OpenAPI document marks the operations that take one).`,
      'Idempotency-Key',
      'idempotency_key_not_supported',
    );
  };
}

function checkPathId(kind: IdKind): Middleware<AppState> {
  return async (ctx, next) => {
    const id = ctx.params.id ?? '';
    if (!isId(kind, id))
      throw new InvalidRequestError(`Invalid id: '${id}' is not of the form ${idPrefixes[kind]}_ followed by 26 lowercase letters and digits.`, 'id');
    return next();
  };
}

function authorize(operation: Operation): Middleware<AppState> {
  const access = accessOf(operation);
  return async (ctx, next) => {
    ctx.state.operationId = operation.operationId;
    const caller = callerOf(ctx);
    if (operation.resource && !allows(caller.grants, operation.resource, access)) {
      throw new PermissionError(
        `This API key may not ${access} ${operation.resource.replace('_', ' ')}: it has ${caller.grants[operation.resource]} access to them. Use a key with ${access} permission on ${operation.resource}.`,
        undefined,
        'api_key_permission_denied',
      );
    }
    if (operation.testModeOnly && caller.livemode) {
      throw new PermissionError(`${operation.method.toUpperCase()} /api/v1${operation.path} exists only in test mode: use a sk_test_ key.`);
    }
    return next();
  };
}
