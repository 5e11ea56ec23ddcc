import Router from '@koa/router';
import { callerOf, type AppState } from '../api/context';
import { route } from '../api/operation';
import { findApiKey } from '../api-keys/api-keys.repository';
import { apiKeyObject } from '../api-keys/api-key.presenter';
import type { Db } from '../db/database';
import { AuthenticationError } from '../domain/errors';
import { accountOperations as operations } from './account.schema';
import { findMerchantById } from './merchants.repository';

/** `GET /account`: the caller's merchant, mode and key. */
export function accountRoutes(deps: { db: Db; clock?: (() => Date) | undefined }): Router<AppState> {
  const router = new Router<AppState>();
  route(router, operations.retrieve, async (ctx) => {
    const caller = callerOf(ctx);
    const now = (deps.clock ?? (() => new Date()))();
    const [merchant, key] = await Promise.all([findMerchantById(deps.db, caller.merchantId), findApiKey(deps.db, caller, caller.apiKeyId, now)]);
    // Auth has just found the key active: only one that expired or was deleted since is missing.
    if (!merchant || !key) throw new AuthenticationError('This API key expired or was deleted while the request was made: use an active key.');
    return { object: 'account' as const, id: merchant.id, name: merchant.name, livemode: caller.livemode, mode: caller.mode, api_key: apiKeyObject(key) };
  });
  return router;
}
