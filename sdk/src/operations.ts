/**
 * Each method's signature, derived from the generated types by operationId, so adding a method
 * is one line and its parameters and result come from the spec:
 *   `(…path parameters in path order, params?, options?) => Promise<result>`
 * where params is the query of a GET or the body of a POST/PATCH.
 */
import type { components, operations } from './openapi';
import { operationRoutes } from './openapi';

export type OperationId = keyof typeof operationRoutes;
type Route<Id extends OperationId> = (typeof operationRoutes)[Id];

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** What a call resolves to: the operation's 200 JSON. */
export type ResultOf<Id extends OperationId> = JsonContent<operations[Id]['responses'][200]>;

/** `/orders/{id}/cancel` → `[id: string]`: one string argument per path parameter, in order. */
type PathArgs<Path extends string> = Path extends `${string}{${string}}${infer Rest}` ? [string, ...PathArgs<Rest>] : [];

/** The API takes `limit` as query text ("1".."100"); the SDK takes a number and sends its digits. */
type WithNumericLimit<Query> = Query extends { limit?: string } ? { [Name in keyof Query]: Name extends 'limit' ? number : Query[Name] } : Query;

export type QueryOf<Id extends OperationId> = WithNumericLimit<NonNullable<operations[Id]['parameters']['query']>>;
type BodyOf<Id extends OperationId> = JsonContent<NonNullable<operations[Id]['requestBody']>>;

/** The params argument: optional when the operation has nothing required in it. */
type ParamsArgs<Id extends OperationId> = Route<Id>['input'] extends 'body'
  ? undefined extends operations[Id]['requestBody']
    ? [params?: BodyOf<Id>]
    : [params: BodyOf<Id>]
  : Route<Id>['input'] extends 'query'
    ? Record<string, never> extends QueryOf<Id>
      ? [params?: QueryOf<Id>]
      : [params: QueryOf<Id>]
    : [];

export interface RequestOptions {
  /** Retries of this call on 429, 503 and (for idempotent requests) network errors; the client's `maxRetries` by default. */
  maxRetries?: number;
  /** Per attempt; the client's `timeoutMs` by default. */
  timeoutMs?: number;
  /** Aborts the call, retries included. */
  signal?: AbortSignal;
}

export interface IdempotentRequestOptions extends RequestOptions {
  /** Sent as `Idempotency-Key`; a random UUID by default, the same on every retry of the call. */
  idempotencyKey?: string;
}

export type OptionsOf<Id extends OperationId> = Route<Id>['idempotent'] extends true ? IdempotentRequestOptions : RequestOptions;

export type ArgsOf<Id extends OperationId> = [...PathArgs<Route<Id>['path']>, ...ParamsArgs<Id>, options?: OptionsOf<Id>];

/** Operations whose answer is a list: `{object: 'list', data, has_more}`. */
export type ListOperationId = { [Id in OperationId]: ResultOf<Id> extends { object: 'list' } ? Id : never }[OperationId];

export type ListItemOf<Id extends ListOperationId> = ResultOf<Id> extends { data: Array<infer Item extends { id: string }> } ? Item : never;

/** The objects, by their schema names in the spec: `Customer`, `Order`, `Event`… */
export type Schemas = components['schemas'];
