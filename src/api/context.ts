import type { ParameterizedContext } from 'koa';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database';
import type { Mode } from '../domain/mode';
import type { Grants } from '../domain/permissions';

/** Who is calling: set by the auth middleware on every /api/v1 request. */
export interface Caller {
  merchantId: string;
  apiKeyId: string;
  mode: Mode;
  livemode: boolean;
  /** What the key may do, resource by resource. */
  grants: Grants;
}

export interface AppState {
  requestId: string;
  caller?: Caller;
  /** The operation the request reached (set by `route()`), for the request log. */
  operationId?: string;
  body?: unknown;
  /** Input validated by validate(): the parsed body and query, typed by the route's schema. */
  input?: unknown;
  /** The write transaction the transaction() middleware opened for this request. */
  transaction?: Transaction<Database>;
}

export type AppContext = ParameterizedContext<AppState>;

/** The caller of an authenticated route (the auth middleware guarantees it is there). */
export function callerOf(ctx: AppContext): Caller {
  if (!ctx.state.caller) throw new Error('callerOf used on a route without auth');
  return ctx.state.caller;
}

/** The request's write transaction (the route must be chained after transaction()). */
export function transactionOf(ctx: AppContext): Transaction<Database> {
  if (!ctx.state.transaction) throw new Error('transactionOf used on a route without transaction()');
  return ctx.state.transaction;
}
