import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db, Executor } from '../db/database';
import { findApiKey, listApiKeys } from './api-keys.repository';
import { ResourceMissingError } from '../domain/errors';
import { apiKeyObject } from './api-key.presenter';
import { apiKeyOperations as operations } from './api-keys.schema';
import { createApiKey, deleteApiKey, rollApiKey } from './api-keys.service';
import type { VerifiedKeys } from './verified-keys';

export interface ApiKeyRouteDeps {
  db: Db;
  /** Seals new keys so they can sign order callbacks (INFLOW_SECRET_KEY). */
  secretKey: Buffer;
  /** When a rolled key's grace period ends is judged by this clock (tests inject one; now by default). */
  clock?: (() => Date) | undefined;
  /** The keys auth verified lately: a key rolled or deleted here is forgotten at once. */
  verifiedKeys?: VerifiedKeys | undefined;
}

export function apiKeyRoutes(deps: ApiKeyRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const clock = deps.clock ?? (() => new Date());

  const keyOf = async (ctx: AppContext, db: Executor = deps.db) => {
    const id = ctx.params.id ?? '';
    const key = await findApiKey(db, callerOf(ctx), id, clock());
    if (!key) throw new ResourceMissingError(`No such API key: '${id}'`, 'id');
    return key;
  };

  route(router, operations.create, transaction(deps.db), async (ctx) => {
    const { key, secret } = await createApiKey(transactionOf(ctx), callerOf(ctx), inputOf(ctx, operations.create.body), {
      secretKey: deps.secretKey,
      now: clock(),
    });
    return apiKeyObject(key, secret);
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    return paginate(inputOf(ctx, operations.list.query), {
      fetch: (window) => listApiKeys(deps.db, caller, clock(), window),
      exists: async (id) => (await findApiKey(deps.db, caller, id, clock())) !== undefined,
      present: (rows) => rows.map((row) => apiKeyObject(row)),
    });
  });

  route(router, operations.retrieve, async (ctx) => apiKeyObject(await keyOf(ctx)));

  route(router, operations.roll, transaction(deps.db), async (ctx) => {
    const { expires_in } = inputOf(ctx, operations.roll.body);
    const rolled = await keyOf(ctx, transactionOf(ctx));
    const { key, secret } = await rollApiKey(transactionOf(ctx), callerOf(ctx), rolled, {
      graceSeconds: expires_in,
      now: clock(),
      secretKey: deps.secretKey,
    });
    // Its grace period (expires_at) applies from the next request on.
    deps.verifiedKeys?.forget(rolled.id);
    return apiKeyObject(key, secret);
  });

  route(router, operations.delete, transaction(deps.db), async (ctx) => {
    const key = await keyOf(ctx, transactionOf(ctx));
    await deleteApiKey(transactionOf(ctx), callerOf(ctx), key, clock());
    deps.verifiedKeys?.forget(key.id);
    return { id: key.id, object: 'api_key' as const, deleted: true as const };
  });

  return router;
}
